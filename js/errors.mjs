/** An Error carrying the core's status name in `code` (e.g. "corrupt", "invalid_argument", "io_error"). */
export class ShopframeError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = 'ShopframeError';
    this.code = code;
  }
}
