// `vigil ask <image> "<question>"`: one question about one image through the configured engine.
// Prints the parsed answer as JSON (source pixels) and writes an annotated copy of the image.
// Engine errors propagate as coded EngineErrors (the CLI prints `[CODE] message` + hint, exit 1);
// bad flags exit 2.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { loadConfig } from '../../config/load.ts';
import { createEngine } from '../../pipelines/engine/create.ts';
import { prepareImage } from '../../pipelines/vlm/image.ts';
import { buildQuestion, isQuestionKind, QUESTION_KINDS, type QuestionKind } from '../../pipelines/vlm/questions.ts';
import { parseAttributeSpec, type AttributeSpec } from '../../pipelines/vlm/attributes.ts';
import { parseAnswer } from '../../pipelines/vlm/parse.ts';
import { annotate } from '../../pipelines/vlm/annotate.ts';

export interface AskOptions {
  kind: string;
  engine?: string;
  config?: string;
  model?: string;
  mmproj?: string;
  attr: string[];
  out?: string;
}

interface Checked {
  kind: QuestionKind;
  engine?: 'local' | 'openai';
  attributes: AttributeSpec[];
  image: Buffer;
}

export async function run(imagePath: string, question: string, opts: AskOptions): Promise<void> {
  const args = checkArgs(imagePath, question, opts);
  if (!args) return;
  const config = loadConfig(opts.config ? { file: opts.config } : {});
  const engine = await createEngine(config.engine, { kind: args.engine, model: opts.model, mmproj: opts.mmproj });
  try {
    await engine.start();
    const { info } = engine;
    const prepared = await prepareImage(args.image, info);
    const q = buildQuestion(args.kind, question, { family: info.family, attributes: args.attributes, sent: prepared.sent });
    const [answer] = await engine.ask({ frames: [prepared.image], questions: [q] });
    if (!answer) throw new Error('the engine returned no answer');
    const parsed = parseAnswer(
      answer.raw,
      {
        family: info.family,
        frame: info.coordinateFrame,
        sent: prepared.sent,
        source: prepared.source,
        attributes: args.attributes,
        ...(args.kind === 'detect' || args.kind === 'count' ? { defaultLabel: question.trim() } : {}),
      },
      args.kind,
    );
    const out = opts.out ?? join(dirname(imagePath), `${basename(imagePath, extname(imagePath))}.annotated.jpg`);
    writeFileSync(out, await annotate(args.image, parsed));
    if (answer.error) console.error(`vigil ask: [${answer.error.code}] ${answer.error.message}${answer.error.hint ? `\nhint: ${answer.error.hint}` : ''}`);
    const report = {
      question: { kind: args.kind, text: question },
      engine: { kind: info.kind, family: info.family, model: info.model, device: info.device },
      ...parsed,
      sent: prepared.sent,
      source: prepared.source,
      timings: answer.timings,
      raw: answer.raw,
      ...(answer.error ? { error: { code: answer.error.code, message: answer.error.message } } : {}),
      annotated: out,
    };
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  } finally {
    await engine.close();
  }
}

/** Validates flags and reads the image; prints the reason and sets exit code 2 on a bad flag. */
function checkArgs(imagePath: string, question: string, opts: AskOptions): Checked | undefined {
  try {
    if (!isQuestionKind(opts.kind)) throw new RangeError(`--kind must be one of ${QUESTION_KINDS.join(', ')}; got "${opts.kind}"`);
    if (opts.engine !== undefined && opts.engine !== 'local' && opts.engine !== 'openai') {
      throw new RangeError(`--engine must be local or openai; got "${opts.engine}"`);
    }
    const attributes = opts.attr.map(parseAttributeSpec);
    // Catches an empty question or attributes on the wrong kind before any engine starts.
    buildQuestion(opts.kind, question, { family: 'qwen2.5-vl', attributes });
    let image: Buffer;
    try {
      image = readFileSync(imagePath);
    } catch (err) {
      throw new RangeError(`cannot read image ${imagePath} (${(err as NodeJS.ErrnoException).code ?? err})`);
    }
    return { kind: opts.kind, ...(opts.engine ? { engine: opts.engine } : {}), attributes, image };
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    console.error(`vigil ask: ${err.message}`);
    process.exitCode = 2;
    return undefined;
  }
}
