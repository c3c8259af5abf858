import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { IdempotencyKey } from './idempotency-key.entity';

/** What an idempotent request's answer is stored as. */
export type StoredAnswer = Pick<IdempotencyKey, 'userId' | 'key' | 'requestHash' | 'responseStatus' | 'responseBody'>;

/** idempotency_keys: the answers of requests that carried an Idempotency-Key. */
@Injectable()
export class IdempotencyKeysRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Takes the (member, key) lock for the caller's transaction, without waiting: false when another
   * request with the same key holds it.
   */
  async tryLock(m: EntityManager, userId: string, key: string, seed: number): Promise<boolean> {
    const [{ locked }] = (await m.query(`SELECT pg_try_advisory_xact_lock(hashtextextended($1, $2)) AS locked`, [
      `${userId}\n${key}`,
      seed,
    ])) as { locked: boolean }[];
    return locked;
  }

  /**
   * Takes the (member, key) lock for the connection's session, without waiting: held across
   * transactions (a request whose effect commits before its answer is known) until unlock, or
   * until the connection ends with its process.
   */
  async tryLockSession(m: EntityManager, userId: string, key: string, seed: number): Promise<boolean> {
    const [{ locked }] = (await m.query(`SELECT pg_try_advisory_lock(hashtextextended($1, $2)) AS locked`, [
      `${userId}\n${key}`,
      seed,
    ])) as { locked: boolean }[];
    return locked;
  }

  async unlockSession(m: EntityManager, userId: string, key: string, seed: number): Promise<void> {
    await m.query(`SELECT pg_advisory_unlock(hashtextextended($1, $2))`, [`${userId}\n${key}`, seed]);
  }

  find(m: EntityManager, userId: string, key: string): Promise<IdempotencyKey | null> {
    return m.getRepository(IdempotencyKey).findOneBy({ userId, key });
  }

  async remove(m: EntityManager, id: string): Promise<void> {
    await m.getRepository(IdempotencyKey).delete({ id });
  }

  /** Stores the answer on the caller's transaction (it commits with what the request did). */
  async store(m: EntityManager, answer: StoredAnswer): Promise<void> {
    await m.getRepository(IdempotencyKey).insert({ ...answer, status: 'done' });
  }

  /** Stores, on the caller's transaction, that the request made `resource`; its answer follows (answer). */
  /** Records the key of a request whose effect commits with it; returns the key's row id. */
  async storeRecorded(m: EntityManager, recorded: Pick<IdempotencyKey, 'userId' | 'key' | 'requestHash' | 'resource'>): Promise<string> {
    const result = await m.getRepository(IdempotencyKey).insert({ ...recorded, status: 'recorded' });
    return String(result.identifiers[0].id);
  }

  /** The answer of a recorded request, once it is known. */
  async answer(m: EntityManager, id: string, responseStatus: number, responseBody: string): Promise<void> {
    await m.getRepository(IdempotencyKey).update({ id }, { status: 'done', responseStatus, responseBody });
  }

  /** Stores a refusal on its own, after the request's transaction rolled back; a concurrent twin may have stored it first. */
  async storeRefusal(answer: StoredAnswer): Promise<void> {
    await this.dataSource
      .getRepository(IdempotencyKey)
      .createQueryBuilder()
      .insert()
      .values({ ...answer, status: 'done' })
      .orIgnore()
      .execute();
  }
}
