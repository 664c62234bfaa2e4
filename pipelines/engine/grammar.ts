// GBNF adjustments between node-llama-cpp's JSON-schema grammars and the native bridge's sampler.

/** node-llama-cpp's JSON-schema grammar ends with forced newlines that its own generator uses as a stop
 *  trigger; the bridge stops at end-of-generation instead, so drop them and let the JSON end the answer. */
export function stripStopTrigger(gbnf: string): string {
  return gbnf.replace(/^(root ::= .*?)(?: "(?:\\n)+" \[\\n\]\*)$/m, '$1');
}

/** node-llama-cpp lets JSON-schema integers carry an exponent ("6e6666" parses to Infinity); allow plain
 *  integers only, which is what every integer field in Vigil's schemas means. */
export function plainIntegers(gbnf: string): string {
  return gbnf.replace(/^(integer-number-rule ::= .*?) \(\[eE\] \[-\+\]\? \(.*?\)\)\?$/m, '$1');
}

/** The GBNF the bridge samples with, from node-llama-cpp's grammar text for a JSON schema. */
export function bridgeGrammar(gbnf: string): string {
  return plainIntegers(stripStopTrigger(gbnf));
}
