import type { Rule } from 'eslint';

/** Which rooms each room under src/ may import from (besides itself). */
export declare const allowedImports: Record<string, string[]>;
/** The `sautikit/layer-direction` rule. */
export declare const layerRule: Rule.RuleModule;
