/** A distillation run that cannot start as asked: labels, tokenizers, layer maps or shapes that do not fit. */
export class DistillSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DistillSetupError';
  }
}
