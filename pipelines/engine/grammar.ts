// GBNF adjustments between node-llama-cpp's JSON-schema grammars and the native bridge's sampler.

/** node-llama-cpp's JSON-schema grammar ends with forced newlines that its own generator uses as a stop
 *  trigger; the bridge stops at end-of-generation instead, so drop them and let the JSON end the answer. */
export function stripStopTrigger(gbnf: string): string {
  return gbnf.replace(/^(root ::= .*?)(?: "(?:\\n)+" \[\\n\]\*)$/m, '$1');
}
