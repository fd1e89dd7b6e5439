import type { ResourceProvider } from './types';

/**
 * The resource types the sandbox can provision. Templates naming any other type are refused at validation
 * ("Unrecognized resource types"); later issues register more providers here (EC2, Auto Scaling, ELB, CodeDeploy).
 */
export class ProviderRegistry {
  private readonly providers = new Map<string, ResourceProvider>();

  register(...providers: ResourceProvider[]): this {
    for (const provider of providers) {
      if (this.providers.has(provider.type))
        throw new Error(`Provider for ${provider.type} registered twice`);
      this.providers.set(provider.type, provider);
    }
    return this;
  }

  has(type: string): boolean {
    return this.providers.has(type);
  }

  get(type: string): ResourceProvider {
    const provider = this.providers.get(type);
    if (!provider) throw new Error(`No provider for ${type}`);
    return provider;
  }

  types(): string[] {
    return [...this.providers.keys()].sort();
  }
}
