/**
 * The HPACK Huffman code (RFC 7541 Appendix B). The code is canonical — codes of one length are
 * consecutive, in symbol order, and each length continues from the last code of the shorter one —
 * so the code lengths alone define it; decoding walks the bits with the first code of each length.
 */

/** Code length in bits of each symbol 0–255, then EOS (256), as Appendix B lists them. */
// prettier-ignore
const CODE_LENGTHS = [
  13,23,28,28,28,28,28,28,28,24,30,28,28,30,28,28,28,28,28,28,28,28,30,28,28,28,28,28,28,28,28,28,
  6,10,10,12,13,6,8,11,10,10,8,11,8,6,6,6,5,5,5,6,6,6,6,6,6,6,7,8,15,6,12,10,
  13,6,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,8,7,8,13,19,13,14,6,
  15,5,6,5,6,5,6,6,6,5,7,7,6,6,6,5,6,7,6,5,5,6,7,7,7,7,7,15,11,14,13,28,
  20,22,20,20,22,22,22,23,22,23,23,23,23,23,24,23,24,24,22,23,24,23,23,23,23,21,22,23,22,23,23,24,
  22,21,20,22,22,23,23,21,23,22,22,24,21,22,23,23,21,21,22,21,23,22,23,23,20,22,22,22,23,22,22,23,
  26,26,20,19,22,23,22,25,26,26,26,27,27,26,24,25,19,21,26,27,27,26,27,24,21,21,26,26,28,27,27,27,
  20,24,20,21,22,21,21,23,22,22,25,25,24,24,26,23,26,27,26,26,27,27,27,27,27,28,27,27,27,27,27,26,
  30,
];
const EOS = 256;
const MAX_LENGTH = 30;

/** Symbols in code order; for each length, the first code and the index of its first symbol. */
const symbols = Array.from(CODE_LENGTHS.keys()).sort((a, b) => CODE_LENGTHS[a] - CODE_LENGTHS[b] || a - b);
const firstCode = new Array<number>(MAX_LENGTH + 2).fill(0);
const firstIndex = new Array<number>(MAX_LENGTH + 2).fill(0);
const countOfLength = new Array<number>(MAX_LENGTH + 2).fill(0);
for (const length of CODE_LENGTHS) countOfLength[length]++;
{
  let code = 0;
  let index = 0;
  for (let length = 1; length <= MAX_LENGTH; length++) {
    firstCode[length] = code;
    firstIndex[length] = index;
    code = (code + countOfLength[length]) * 2;
    index += countOfLength[length];
  }
}

/**
 * Decodes a Huffman-coded string; null when it is not valid (EOS inside, padding longer than 7
 * bits or not all ones, RFC 7541 §5.2).
 */
export function huffmanDecode(input: Buffer): string | null {
  const out: number[] = [];
  let code = 0;
  let length = 0;
  for (let i = 0; i < input.length; i++) {
    for (let bit = 7; bit >= 0; bit--) {
      code = code * 2 + ((input[i] >> bit) & 1);
      length++;
      const offset = code - firstCode[length];
      if (offset >= 0 && offset < countOfLength[length]) {
        const symbol = symbols[firstIndex[length] + offset];
        if (symbol === EOS) return null;
        out.push(symbol);
        code = 0;
        length = 0;
      } else if (length >= MAX_LENGTH) return null;
    }
  }
  // What is left must be a prefix of EOS: at most 7 one-bits.
  if (length > 7 || code !== 2 ** length - 1) return null;
  return Buffer.from(out).toString('latin1');
}
