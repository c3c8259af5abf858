import { InitialSchema1764057600000 } from './1764057600000-InitialSchema';
import { SeedMembershipPlans1764057600001 } from './1764057600001-SeedMembershipPlans';

/** Every migration, in order. A new migration file is added here too. */
export const MIGRATIONS = [InitialSchema1764057600000, SeedMembershipPlans1764057600001];
