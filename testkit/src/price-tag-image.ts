import { deflateSync } from 'node:zlib';

/**
 * Renders lines of text as a black-on-white grayscale PNG from a built-in 5×7 bitmap font, so
 * tests can photograph a "price tag" without depending on any font installed on the machine.
 * Glyphs are scaled up and spaced like a printed label, which OCR reads reliably.
 *
 * ```ts
 * const png = renderTextPng(['SOFA-001', '129900']);
 * fake.sendPhoto(token, { chatId, from, bytes: png, mimeType: 'image/png' });
 * ```
 */
export function renderTextPng(lines: string[], options: { scale?: number; margin?: number } = {}): Buffer {
  const scale = options.scale ?? 8;
  const margin = options.margin ?? 6 * scale;
  const glyphWidth = 5 * scale;
  const glyphHeight = 7 * scale;
  const advance = glyphWidth + 2 * scale;
  const lineAdvance = glyphHeight + 4 * scale;
  const longest = Math.max(1, ...lines.map((line) => line.length));
  const width = margin * 2 + longest * advance - 2 * scale;
  const height = margin * 2 + lines.length * lineAdvance - 4 * scale;
  const pixels = Buffer.alloc(width * height, 0xff);

  lines.forEach((line, row) => {
    [...line.toUpperCase()].forEach((char, column) => {
      const glyph = FONT[char] ?? FONT['?'];
      if (!glyph) return;
      const left = margin + column * advance;
      const top = margin + row * lineAdvance;
      glyph.forEach((bits, y) => {
        for (let x = 0; x < 5; x++) {
          if (bits[x] !== '#') continue;
          for (let dy = 0; dy < scale; dy++) {
            const offset = (top + y * scale + dy) * width + left + x * scale;
            pixels.fill(0x00, offset, offset + scale);
          }
        }
      });
    });
  });
  return encodeGrayPng(width, height, blur(pixels, width, height, Math.max(1, Math.round(scale / 4))));
}

/**
 * A box blur: soft edges like a photographed label. OCR models trained on printed text read
 * anti-aliased strokes better than hard pixel steps.
 */
function blur(pixels: Buffer, width: number, height: number, radius: number): Buffer {
  const pass = (source: Buffer, dx: number, dy: number) => {
    const target = Buffer.alloc(source.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let sum = 0;
        let count = 0;
        for (let k = -radius; k <= radius; k++) {
          const sx = x + k * dx;
          const sy = y + k * dy;
          if (sx < 0 || sy < 0 || sx >= width || sy >= height) continue;
          sum += source[sy * width + sx] ?? 0xff;
          count++;
        }
        target[y * width + x] = Math.round(sum / count);
      }
    }
    return target;
  };
  return pass(pass(pixels, 1, 0), 0, 1);
}

/** A minimal PNG encoder: 8-bit grayscale, no filtering, one IDAT chunk. */
function encodeGrayPng(width: number, height: number, pixels: Buffer): Buffer {
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 0; // filter type: none
    pixels.copy(raw, y * (width + 1) + 1, y * width, (y + 1) * width);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // colour type: grayscale
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// A classic 5×7 dot-matrix font: each glyph is seven rows of five columns.
const FONT: Record<string, string[]> = {
  A: ['.###.', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'],
  B: ['####.', '#...#', '#...#', '####.', '#...#', '#...#', '####.'],
  C: ['.###.', '#...#', '#....', '#....', '#....', '#...#', '.###.'],
  D: ['####.', '#...#', '#...#', '#...#', '#...#', '#...#', '####.'],
  E: ['#####', '#....', '#....', '####.', '#....', '#....', '#####'],
  F: ['#####', '#....', '#....', '####.', '#....', '#....', '#....'],
  G: ['.###.', '#...#', '#....', '#.###', '#...#', '#...#', '.####'],
  H: ['#...#', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'],
  I: ['.###.', '..#..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  J: ['..###', '...#.', '...#.', '...#.', '...#.', '#..#.', '.##..'],
  K: ['#...#', '#..#.', '#.#..', '##...', '#.#..', '#..#.', '#...#'],
  L: ['#....', '#....', '#....', '#....', '#....', '#....', '#####'],
  M: ['#...#', '##.##', '#.#.#', '#.#.#', '#...#', '#...#', '#...#'],
  N: ['#...#', '#...#', '##..#', '#.#.#', '#..##', '#...#', '#...#'],
  O: ['.###.', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'],
  P: ['####.', '#...#', '#...#', '####.', '#....', '#....', '#....'],
  Q: ['.###.', '#...#', '#...#', '#...#', '#.#.#', '#..#.', '.##.#'],
  R: ['####.', '#...#', '#...#', '####.', '#.#..', '#..#.', '#...#'],
  S: ['.####', '#....', '#....', '.###.', '....#', '....#', '####.'],
  T: ['#####', '..#..', '..#..', '..#..', '..#..', '..#..', '..#..'],
  U: ['#...#', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'],
  V: ['#...#', '#...#', '#...#', '#...#', '#...#', '.#.#.', '..#..'],
  W: ['#...#', '#...#', '#...#', '#.#.#', '#.#.#', '#.#.#', '.#.#.'],
  X: ['#...#', '#...#', '.#.#.', '..#..', '.#.#.', '#...#', '#...#'],
  Y: ['#...#', '#...#', '.#.#.', '..#..', '..#..', '..#..', '..#..'],
  Z: ['#####', '....#', '...#.', '..#..', '.#...', '#....', '#####'],
  '0': ['.###.', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'],
  '1': ['..#..', '.##..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  '2': ['.###.', '#...#', '....#', '...#.', '..#..', '.#...', '#####'],
  '3': ['#####', '...#.', '..#..', '...#.', '....#', '#...#', '.###.'],
  '4': ['...#.', '..##.', '.#.#.', '#..#.', '#####', '...#.', '...#.'],
  '5': ['#####', '#....', '####.', '....#', '....#', '#...#', '.###.'],
  '6': ['..##.', '.#...', '#....', '####.', '#...#', '#...#', '.###.'],
  '7': ['#####', '....#', '...#.', '..#..', '.#...', '.#...', '.#...'],
  '8': ['.###.', '#...#', '#...#', '.###.', '#...#', '#...#', '.###.'],
  '9': ['.###.', '#...#', '#...#', '.####', '....#', '...#.', '.##..'],
  '-': ['.....', '.....', '.....', '#####', '.....', '.....', '.....'],
  '.': ['.....', '.....', '.....', '.....', '.....', '.##..', '.##..'],
  ':': ['.....', '.##..', '.##..', '.....', '.##..', '.##..', '.....'],
  ' ': ['.....', '.....', '.....', '.....', '.....', '.....', '.....'],
  '?': ['.###.', '#...#', '....#', '...#.', '..#..', '.....', '..#..'],
};
