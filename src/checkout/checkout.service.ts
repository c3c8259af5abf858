import { Injectable } from '@nestjs/common';
import { TokenService } from '../auth/token.service';
import { DomainError } from '../common/errors/domain-error';
import { isLoopbackUrl } from '../common/net';
import { AppConfig } from '../config/app-config';
import { enabledChannelsByMethod, PROVIDER_DESCRIPTORS } from '../payments/provider-catalog';
import type { ProviderName } from '../payments/provider-name';
import type { CheckoutConfigView, DemoTokenView } from './checkout.views';

/** Every browser that asks gets the same demo member: the page is a development tool, not a sign-in. */
export const DEMO_USER_ID = 'demo';
/** Long enough for a session at the page, short enough to stay inside any sane token lifetime limit. */
const DEMO_TOKEN_TTL_SECONDS = 3600;

@Injectable()
export class CheckoutService {
  constructor(
    private readonly config: AppConfig,
    private readonly tokens: TokenService,
  ) {}

  pageConfig(): CheckoutConfigView {
    const configured = PROVIDER_DESCRIPTORS.filter((d) => this.config[d.name]);
    return {
      sandbox: this.config.sandbox,
      demo_token: !this.config.isProduction,
      payment_methods: configured.map((d) => d.name),
      channels: enabledChannelsByMethod(this.config),
      sandbox_pay_page: Object.fromEntries(
        PROVIDER_DESCRIPTORS.map((d) => {
          const section = this.config[d.name];
          return [d.name, this.sandboxPage(section && d.settings.apiUrl(section)[1], '/sandbox/pay')];
        }),
      ) as Record<ProviderName, string | null>,
      sandbox_sign_page: Object.fromEntries(
        PROVIDER_DESCRIPTORS.map((d) => {
          const section = this.config[d.name];
          return [d.name, this.sandboxPage(section && d.settings.apiUrl(section)[1], '/sandbox/contracts/sign')];
        }),
      ) as Record<ProviderName, string | null>,
    };
  }

  demoToken(now = new Date()): DemoTokenView {
    if (this.config.isProduction) {
      throw new DomainError('FORBIDDEN', 'Demo tokens are issued only in development: sign in through the membership app');
    }
    // An hour, unless tokens may not live that long here: never a token the service would refuse.
    const ttl = Math.min(DEMO_TOKEN_TTL_SECONDS, this.config.jwtMaxTtlSeconds);
    return {
      user_id: DEMO_USER_ID,
      token: this.tokens.sign(DEMO_USER_ID, ttl),
      expires_at: new Date(now.getTime() + ttl * 1000).toISOString(),
    };
  }

  /**
   * The sandbox serves both providers' APIs and its pay page from one origin, and the launcher points
   * the provider URLs at it, so the page is found from the provider's own URL. A provider configured
   * for real next to a sandboxed one has no such page (its URL is not on this machine).
   */
  private sandboxPage(providerUrl: string | undefined, path: string): string | null {
    if (!this.config.sandbox || !providerUrl || !isLoopbackUrl(providerUrl)) return null;
    return new URL(path, providerUrl).href;
  }
}
