//! A small QR code encoder for the group join link: byte mode, error correction level L,
//! versions 1 to 5 (up to 106 bytes, one Reed–Solomon block each), fixed mask pattern 0.
//!
//! The result is a square of modules; [`QrCode::svg_path`] turns the dark ones into one SVG path.

/// Data and error-correction codewords of versions 1–5 at level L (one block each).
const CAPACITY: [(usize, usize); 5] = [(19, 7), (34, 10), (55, 15), (80, 20), (108, 26)];

/// Why a text cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLong {
    /// The length of the text in bytes.
    pub len: usize,
}

impl std::fmt::Display for TooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} bytes do not fit a version 1–5 QR code (at most 106)",
            self.len
        )
    }
}

/// An encoded QR code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrCode {
    size: usize,
    dark: Vec<bool>,
}

impl QrCode {
    /// Encodes `data` in byte mode, in the smallest version that holds it.
    pub fn encode(data: &[u8]) -> Result<QrCode, TooLong> {
        let version = CAPACITY
            .iter()
            .position(|(cw, _)| data.len() + 2 <= *cw)
            .ok_or(TooLong { len: data.len() })?
            + 1;
        let (data_cw, ec_cw) = CAPACITY[version - 1];
        let mut codewords = data_codewords(data, data_cw);
        let ec = reed_solomon(&codewords, ec_cw);
        codewords.extend(ec);
        let mut grid = Grid::new(version);
        grid.draw_function_patterns(version);
        grid.draw_codewords(&codewords);
        Ok(QrCode {
            size: grid.size,
            dark: grid.dark,
        })
    }

    /// Modules per side (without the quiet zone).
    pub fn size(&self) -> usize {
        self.size
    }

    /// Whether the module at column `x`, row `y` is dark.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.size && y < self.size && self.dark[y * self.size + x]
    }

    /// An SVG path of unit squares for the dark modules, offset by `margin` modules.
    pub fn svg_path(&self, margin: usize) -> String {
        let mut d = String::new();
        for y in 0..self.size {
            for x in 0..self.size {
                if self.is_dark(x, y) {
                    d.push_str(&format!("M{} {}h1v1h-1z", x + margin, y + margin));
                }
            }
        }
        d
    }
}

/// Mode indicator, character count, the bytes, terminator and padding.
fn data_codewords(data: &[u8], capacity: usize) -> Vec<u8> {
    let mut bits: Vec<bool> = Vec::with_capacity(capacity * 8);
    let mut push = |value: u32, len: u32| {
        for i in (0..len).rev() {
            bits.push((value >> i) & 1 == 1);
        }
    };
    push(0b0100, 4);
    push(data.len() as u32, 8);
    for &b in data {
        push(u32::from(b), 8);
    }
    let total = capacity * 8;
    let terminator = (total - bits.len()).min(4);
    bits.extend(std::iter::repeat_n(false, terminator));
    while !bits.len().is_multiple_of(8) {
        bits.push(false);
    }
    let mut out: Vec<u8> = bits
        .chunks(8)
        .map(|c| c.iter().fold(0u8, |acc, &b| (acc << 1) | u8::from(b)))
        .collect();
    let mut pad = [0xEC, 0x11].into_iter().cycle();
    while out.len() < capacity {
        out.push(pad.next().unwrap_or(0xEC));
    }
    out
}

/// Multiplication in GF(2⁸) modulo x⁸ + x⁴ + x³ + x² + 1.
fn gf_mul(mut a: u8, mut b: u8) -> u8 {
    let mut product = 0u8;
    while b != 0 {
        if b & 1 != 0 {
            product ^= a;
        }
        let carry = a & 0x80 != 0;
        a <<= 1;
        if carry {
            a ^= 0x1D;
        }
        b >>= 1;
    }
    product
}

/// The `degree` error-correction codewords of `data`.
fn reed_solomon(data: &[u8], degree: usize) -> Vec<u8> {
    // Generator (x − α⁰)(x − α¹)…(x − α^(degree−1)), leading coefficient dropped.
    let mut generator = vec![0u8; degree];
    generator[degree - 1] = 1;
    let mut root = 1u8;
    for _ in 0..degree {
        for j in 0..degree {
            generator[j] = gf_mul(generator[j], root);
            if j + 1 < degree {
                generator[j] ^= generator[j + 1];
            }
        }
        root = gf_mul(root, 2);
    }
    let mut remainder = vec![0u8; degree];
    for &byte in data {
        let factor = byte ^ remainder[0];
        remainder.rotate_left(1);
        remainder[degree - 1] = 0;
        for (r, g) in remainder.iter_mut().zip(&generator) {
            *r ^= gf_mul(*g, factor);
        }
    }
    remainder
}

/// The 15 format bits for level L and mask 0, BCH-protected and masked.
fn format_bits() -> u32 {
    let data: u32 = 0b01_000;
    let mut rem = data;
    for _ in 0..10 {
        rem = (rem << 1) ^ ((rem >> 9) * 0x537);
    }
    ((data << 10) | rem) ^ 0x5412
}

struct Grid {
    size: usize,
    dark: Vec<bool>,
    function: Vec<bool>,
}

impl Grid {
    fn new(version: usize) -> Grid {
        let size = 17 + 4 * version;
        Grid {
            size,
            dark: vec![false; size * size],
            function: vec![false; size * size],
        }
    }

    fn set_function(&mut self, x: usize, y: usize, dark: bool) {
        let i = y * self.size + x;
        self.dark[i] = dark;
        self.function[i] = true;
    }

    fn draw_function_patterns(&mut self, version: usize) {
        let size = self.size;
        for i in 0..size {
            self.set_function(6, i, i.is_multiple_of(2));
            self.set_function(i, 6, i.is_multiple_of(2));
        }
        for (cx, cy) in [(3, 3), (size - 4, 3), (3, size - 4)] {
            for dy in -4i32..=4 {
                for dx in -4i32..=4 {
                    let (x, y) = (cx as i32 + dx, cy as i32 + dy);
                    if x < 0 || y < 0 || x >= size as i32 || y >= size as i32 {
                        continue;
                    }
                    let dist = dx.abs().max(dy.abs());
                    self.set_function(x as usize, y as usize, dist != 2 && dist != 4);
                }
            }
        }
        if version >= 2 {
            let c = size - 7;
            for dy in -2i32..=2 {
                for dx in -2i32..=2 {
                    let dist = dx.abs().max(dy.abs());
                    let (x, y) = ((c as i32 + dx) as usize, (c as i32 + dy) as usize);
                    self.set_function(x, y, dist != 1);
                }
            }
        }
        let bits = format_bits();
        let bit = |i: usize| (bits >> i) & 1 == 1;
        for i in 0..6 {
            self.set_function(8, i, bit(i));
        }
        self.set_function(8, 7, bit(6));
        self.set_function(8, 8, bit(7));
        self.set_function(7, 8, bit(8));
        for i in 9..15 {
            self.set_function(14 - i, 8, bit(i));
        }
        for i in 0..8 {
            self.set_function(size - 1 - i, 8, bit(i));
        }
        for i in 8..15 {
            self.set_function(8, size - 15 + i, bit(i));
        }
        self.set_function(8, size - 8, true);
    }

    /// Places the codewords in the zig-zag order and applies mask 0 ((x + y) even flips).
    fn draw_codewords(&mut self, codewords: &[u8]) {
        let size = self.size;
        let total = codewords.len() * 8;
        let mut i = 0;
        let mut right = size as i32 - 1;
        while right >= 1 {
            if right == 6 {
                right = 5;
            }
            let upward = ((right + 1) & 2) == 0;
            for vert in 0..size {
                let y = if upward { size - 1 - vert } else { vert };
                for j in 0..2 {
                    let x = (right - j) as usize;
                    let idx = y * size + x;
                    if self.function[idx] {
                        continue;
                    }
                    let mut dark = false;
                    if i < total {
                        dark = (codewords[i >> 3] >> (7 - (i & 7))) & 1 == 1;
                        i += 1;
                    }
                    self.dark[idx] = dark ^ (x + y).is_multiple_of(2);
                }
            }
            right -= 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn format_bits_for_level_l_mask_0() {
        assert_eq!(format_bits(), 0b111_0111_1100_0100);
    }

    #[test]
    fn reed_solomon_matches_the_standard_example() {
        // "HELLO WORLD" at 1-M: the data codewords and the 10 error-correction codewords.
        let data = [
            32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17,
        ];
        assert_eq!(
            reed_solomon(&data, 10),
            vec![196, 35, 39, 119, 235, 215, 231, 226, 93, 23]
        );
    }

    #[test]
    fn picks_the_smallest_version_and_draws_finders() {
        let qr = QrCode::encode(b"http://127.0.0.1:8080/#/join/chorus-team?via=qr").unwrap();
        assert_eq!(qr.size(), 29); // version 3
        for (x, y) in [(0, 0), (6, 0), (0, 6), (22, 0), (0, 22), (3, 3)] {
            assert!(qr.is_dark(x, y), "({x}, {y})");
        }
        assert!(!qr.is_dark(1, 1));
        assert!(QrCode::encode(&[b'a'; 107]).is_err());
    }
}
