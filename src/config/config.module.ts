import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { config as loadDotenv } from 'dotenv';
import { AppConfig, buildAppConfig } from './app-config';

export interface ConfigOptions {
  /** Tests pass their environment explicitly; otherwise process.env plus ./.env. */
  env?: Record<string, string | undefined>;
}

/** The environment as the service sees it: process.env over ./.env (real variables win). */
export function readEnvironment(): Record<string, string | undefined> {
  loadDotenv({ quiet: true });
  return process.env;
}

/** Builds (and so validates) the configuration from the real environment. */
/** `overrides` are what the command line says (e.g. `--workers`), over the environment. */
export function loadAppConfig(overrides: Record<string, string> = {}): AppConfig {
  return buildAppConfig({ ...readEnvironment(), ...overrides });
}

@Global()
@Module({})
export class AppConfigModule {
  static async forRoot(options: ConfigOptions = {}): Promise<DynamicModule> {
    let config!: AppConfig;
    // @nestjs/config reads ./.env and hands us the merged environment to validate once.
    const nestConfig = await ConfigModule.forRoot({
      ignoreEnvFile: !!options.env,
      ignoreEnvVars: !!options.env,
      validate: (raw) => {
        config = buildAppConfig(options.env ?? raw);
        return {};
      },
    });
    return {
      module: AppConfigModule,
      imports: [nestConfig],
      providers: [{ provide: AppConfig, useValue: config }],
      exports: [AppConfig],
    };
  }
}
