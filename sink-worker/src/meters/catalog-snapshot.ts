import { compileMeter, type CompiledMeter, type MeterDefinition } from '@polaris/shared/meters';

/** One meter version the sink extracts live. */
export interface CatalogVersion {
  organizationId: string;
  meterSlug: string;
  /** uint64 as decimal text: the id in ClickHouse. */
  meterVersionId: string;
  catalogRevision: string;
  definition: MeterDefinition;
}

export interface LiveMeter {
  meterVersionId: string;
  /** Names the meter where an event's values are shown (Usage.ListEvents). */
  meterSlug: string;
  /**
   * undefined when the stored definition no longer compiles (the rules changed since it was
   * checked): its events are then stamped invalid, visibly, rather than left out, which would
   * stop the whole sync for every tenant or leave events that no backfill would count.
   */
  meter: CompiledMeter | undefined;
}

/**
 * The live meter versions at one catalog revision, compiled once and indexed by
 * (organization, event type): the sink looks them up for every event.
 */
export class MeterCatalogSnapshot {
  private readonly byOrgAndType = new Map<string, LiveMeter[]>();

  constructor(
    readonly revision: string,
    versions: readonly CatalogVersion[],
  ) {
    for (const v of versions) {
      const key = lookupKey(v.organizationId, v.definition.eventType);
      let list = this.byOrgAndType.get(key);
      if (!list) this.byOrgAndType.set(key, (list = []));
      list.push({ meterVersionId: v.meterVersionId, meterSlug: v.meterSlug, meter: compileOrUndefined(v.definition) });
    }
  }

  /** The versions that count events of this type in this org; empty when none. */
  metersFor(organizationId: string, eventType: string): readonly LiveMeter[] {
    return this.byOrgAndType.get(lookupKey(organizationId, eventType)) ?? NONE;
  }

  get versionCount(): number {
    let n = 0;
    for (const list of this.byOrgAndType.values()) n += list.length;
    return n;
  }
}

const NONE: readonly LiveMeter[] = [];

function compileOrUndefined(definition: MeterDefinition): CompiledMeter | undefined {
  try {
    return compileMeter(definition);
  } catch {
    return undefined;
  }
}

// NUL cannot occur in an org id (a UUID), so the pair is unambiguous.
const lookupKey = (organizationId: string, eventType: string) => `${organizationId}\u0000${eventType}`;
