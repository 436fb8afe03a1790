/** Reading a tokenizer folder's files through the guarded model-folder reader, with errors that name the file. */
import { TokenizerFileError } from './errors.js';
import { ModelFileError, readModelFile } from '../io/model-file.js';

/** A tokenizer file's bytes through the guarded model-folder reader (regular file, bounded, no escaping link). */
export function readTokenizerFile(path: string): Buffer {
  try {
    return readModelFile(path);
  } catch (e) {
    if (e instanceof ModelFileError) throw new TokenizerFileError(path, `cannot read: ${e.problem}`);
    throw e;
  }
}

export function readTokenizerText(path: string): string {
  return readTokenizerFile(path).toString('utf8');
}

/** A JSON file of the folder, parsed; unreadable or invalid: a TokenizerFileError naming it. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readTokenizerText(path);
  } catch (e) {
    if (e instanceof TokenizerFileError) throw e;
    throw new TokenizerFileError(path, `cannot read: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new TokenizerFileError(path, `not valid JSON: ${(e as Error).message}`);
  }
}
