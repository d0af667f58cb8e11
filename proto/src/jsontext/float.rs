//! Decimal number text to the nearest `f64` (ties to even), and floats to their shortest
//! decimal digits, with small code and no tables.
//!
//! Floats are rare in this protocol, so speed does not matter here but size does: both
//! directions compute exactly with one small big-integer type. Reading divides (about 67
//! quotient bits), then rounds once. Up to [`MAX_DIGITS`] significant digits are used exactly;
//! any further non-zero digit only marks the value as lying above the kept digits, which is
//! enough to round correctly. Writing generates digits one at a time until they name the value
//! uniquely (see [`shortest`]).

use std::cmp::Ordering;

/// Significant digits used exactly (more than the 767 an `f64` rounding can depend on).
const MAX_DIGITS: usize = 800;

/// The nearest `f64` to JSON number text that is already checked for syntax; `None` when the
/// value rounds to infinity.
pub(super) fn parse_f64(text: &str) -> Option<f64> {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (text.get(..at)?, text.get(at + 1..)?),
        None => (text, ""),
    };
    // value = digits × 10^exp10, plus something below the last digit when `sticky`.
    let mut digits: Vec<u8> = Vec::new();
    let mut exp10: i64 = 0;
    let mut sticky = false;
    let mut fraction = false;
    for b in mantissa.bytes() {
        if b == b'.' {
            fraction = true;
            continue;
        }
        let d = b - b'0';
        if digits.is_empty() && d == 0 {
            exp10 -= i64::from(fraction);
        } else if digits.len() < MAX_DIGITS {
            digits.push(d);
            exp10 -= i64::from(fraction);
        } else {
            sticky |= d != 0;
            exp10 += i64::from(!fraction);
        }
    }
    let (exp_negative, exp_digits) = match exponent.as_bytes().first() {
        Some(b'-') => (true, exponent.get(1..)?),
        Some(b'+') => (false, exponent.get(1..)?),
        _ => (false, exponent),
    };
    let written = exp_digits.bytes().fold(0i64, |n, b| {
        n.saturating_mul(10)
            .saturating_add(i64::from(b - b'0'))
            .min(1 << 40)
    });
    exp10 += if exp_negative { -written } else { written };
    while digits.last() == Some(&0) {
        digits.pop();
        exp10 += 1;
    }
    let zero = if negative { -0.0 } else { 0.0 };
    if digits.is_empty() {
        return Some(zero);
    }
    // The value lies in [10^(magnitude-1), 10^magnitude).
    let magnitude = digits.len() as i64 + exp10;
    if magnitude > 310 {
        return None;
    }
    if magnitude < -330 {
        return Some(zero);
    }
    let mut whole = Big(vec![0]);
    for &d in &digits {
        whole.mul_add(10, u32::from(d));
    }
    // value = a / b × 2^exp2
    let (mut a, mut b, mut exp2) = if exp10 >= 0 {
        for _ in 0..exp10 {
            whole.mul_add(5, 0);
        }
        (whole, Big(vec![1]), exp10)
    } else {
        let mut five = Big(vec![1]);
        for _ in 0..-exp10 {
            five.mul_add(5, 0);
        }
        (whole, five, exp10)
    };
    // Scale so that the quotient has 66 or 67 bits.
    let shift = b.bits() as i64 + 66 - a.bits() as i64;
    if shift >= 0 {
        a.shl(shift as usize);
    } else {
        b.shl(-shift as usize);
    }
    exp2 -= shift;
    // Restoring division: quotient bit by bit, the remainder left in `a`.
    b.shl(67);
    let mut quotient: u128 = 0;
    for bit in (0..=67).rev() {
        if a.cmp(&b).is_ge() {
            a.sub(&b);
            quotient |= 1 << bit;
        }
        b.shr1();
    }
    sticky |= !a.is_zero();
    let value = round(quotient, sticky, exp2)?;
    Some(if negative { -value } else { value })
}

/// `quotient × 2^exp2` (plus a little more when `sticky`) rounded to the nearest `f64`, ties to
/// even; `None` when that is infinite. `quotient` has at most 68 bits.
fn round(quotient: u128, sticky: bool, exp2: i64) -> Option<f64> {
    let bits = 128 - i64::from(quotient.leading_zeros());
    // Drop bits down to 53 significant ones, and never keep any below 2^-1074.
    let drop = (bits - 53).max(-1074 - exp2).min(bits + 1);
    let (mut mantissa, mut exp2) = if drop > 0 {
        let half = 1u128 << (drop - 1);
        let rest = quotient & ((half << 1) - 1);
        let kept = quotient >> drop;
        let up = rest > half || (rest == half && (sticky || kept & 1 == 1));
        (kept + u128::from(up), exp2 + drop)
    } else {
        (quotient << -drop, exp2 + drop)
    };
    if mantissa == 1 << 53 {
        mantissa >>= 1;
        exp2 += 1;
    }
    if mantissa == 0 {
        return Some(0.0);
    }
    let mantissa = u64::try_from(mantissa).ok()?;
    if mantissa < 1 << 52 {
        // Subnormal: the exponent is exactly -1074 here.
        return Some(f64::from_bits(mantissa));
    }
    let biased = exp2 + 52 + 1023;
    if biased >= 2047 {
        return None;
    }
    let biased = u64::try_from(biased).ok()?;
    Some(f64::from_bits(
        (biased << 52) | (mantissa & ((1 << 52) - 1)),
    ))
}

/// The shortest decimal digits (ASCII) that read back as `v`, a positive finite value of type
/// `f32` when `single` and `f64` otherwise, and the power of ten of the first digit. Of several
/// shortest candidates the one nearest to `v` is taken, ties going to an even last digit: the
/// digits serde_json writes.
///
/// Digits are generated from the exact value one at a time; after each, the two candidates that
/// end there (the digits so far, and one unit more) are checked against the rounding interval
/// of `v`, the values that read back as `v`: half a unit in the last place either side, only a
/// quarter below when `v` is the lowest value of its binade, and its ends included when `v`'s
/// significand is even (a tie reads back as the even one).
pub(super) fn shortest(v: f64, single: bool) -> (Vec<u8>, i32) {
    let (precision, min_exp) = if single { (24, -149) } else { (53, -1074) };
    let bits = v.to_bits();
    let field = (bits >> 52) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (mut m, mut e) = match field {
        0 => (fraction, -1074),
        _ => (fraction | 1 << 52, field - 1075),
    };
    // v = m × 2^e with the type's precision (the dropped bits of an `f32` value are zero).
    let drop = (64 - m.leading_zeros() as i32 - precision).max(min_exp - e);
    m >>= drop;
    e += drop;
    let even = m & 1 == 0;
    let closer = usize::from(m == 1 << (precision - 1) && e > min_exp);
    // The interval is v − lo ..= v + hi, hi half a unit (2^(e − 1)) and lo half or a quarter
    // of one. Scaled by 10^-k: r / s = v, rh / s = v + hi and low / s = lo, all four integers
    // (times 2^(1 + closer − min(e, 0)) to begin with, k = 0).
    let whole = e.max(0) as usize;
    let mut r = Big::shifted(2 * m, whole + closer);
    let mut rh = Big::shifted(2 * m + 1, whole + closer);
    let mut low = Big::shifted(1, whole);
    let mut s = Big::shifted(1, e.min(0).unsigned_abs() as usize + 1 + closer);
    // Start from a k ≤ 0 that is at most the wanted one, then raise it to the wanted one: the
    // least k with 10^k above the interval, so that the first digit stands for 10^(k − 1).
    // (v ≥ 2^(bits of m + e − 1), and 78913 / 2^18 is just below log10(2).)
    let mut k = (((64 - m.leading_zeros() as i32 + e - 1) * 78913) >> 18).min(0);
    for _ in k..0 {
        Big::times10(&mut r, &mut rh, &mut low);
    }
    while s.within(&rh, even) {
        s.mul_add(10, 0);
        k += 1;
    }
    let mut digits = Vec::new();
    loop {
        Big::times10(&mut r, &mut rh, &mut low);
        let mut digit = b'0';
        while r.cmp(&s).is_ge() {
            r.sub(&s);
            rh.sub(&s);
            digit += 1;
        }
        // The digits so far, or one unit more, read back as `v`.
        let down = r.within(&low, even);
        let up = s.within(&rh, even);
        if down || up {
            // When both do, the nearer one (2r against s), on a tie the even one.
            r.shl(1);
            let nearer_up = match r.cmp(&s) {
                Ordering::Less => false,
                Ordering::Equal => digit & 1 == 1,
                Ordering::Greater => true,
            };
            if up && (!down || nearer_up) {
                digit += 1;
            }
            digits.push(digit);
            return (digits, k - 1);
        }
        digits.push(digit);
    }
}

/// An unsigned big integer, 32-bit limbs, least significant first.
struct Big(Vec<u32>);

impl Big {
    /// `n << shift`.
    fn shifted(n: u64, shift: usize) -> Big {
        let mut big = Big(vec![n as u32, (n >> 32) as u32]);
        big.shl(shift);
        big
    }

    /// Multiplies each by ten.
    fn times10(a: &mut Big, b: &mut Big, c: &mut Big) {
        a.mul_add(10, 0);
        b.mul_add(10, 0);
        c.mul_add(10, 0);
    }

    /// `self = self × m + add`.
    fn mul_add(&mut self, m: u32, add: u32) {
        let mut carry = u64::from(add);
        for limb in &mut self.0 {
            let v = u64::from(*limb) * u64::from(m) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }

    /// The number of significant bits.
    fn bits(&self) -> usize {
        match self.0.iter().rposition(|&limb| limb != 0) {
            Some(top) => top * 32 + 32 - self.0[top].leading_zeros() as usize,
            None => 0,
        }
    }

    fn is_zero(&self) -> bool {
        self.0.iter().all(|&limb| limb == 0)
    }

    /// `self <<= n`.
    fn shl(&mut self, n: usize) {
        let (limbs, bits) = (n / 32, n % 32);
        if bits > 0 {
            let mut carry = 0;
            for limb in &mut self.0 {
                let next = *limb >> (32 - bits);
                *limb = (*limb << bits) | carry;
                carry = next;
            }
            if carry > 0 {
                self.0.push(carry);
            }
        }
        // `limbs` zero limbs below the others.
        let len = self.0.len();
        self.0.resize(len + limbs, 0);
        self.0.rotate_right(limbs);
    }

    /// `self >>= 1`.
    fn shr1(&mut self) {
        let mut carry = 0;
        for limb in self.0.iter_mut().rev() {
            let next = *limb << 31;
            *limb = (*limb >> 1) | carry;
            carry = next;
        }
    }

    /// How `self` compares with `other`.
    fn cmp(&self, other: &Big) -> Ordering {
        let len = self.0.len().max(other.0.len());
        for i in (0..len).rev() {
            let (x, y) = (
                self.0.get(i).copied().unwrap_or(0),
                other.0.get(i).copied().unwrap_or(0),
            );
            if x != y {
                return x.cmp(&y);
            }
        }
        Ordering::Equal
    }

    /// `self < bound`, or `self <= bound` when `inclusive`.
    fn within(&self, bound: &Big, inclusive: bool) -> bool {
        match self.cmp(bound) {
            Ordering::Less => true,
            Ordering::Equal => inclusive,
            Ordering::Greater => false,
        }
    }

    /// `self -= other`, where `self >= other`.
    fn sub(&mut self, other: &Big) {
        let mut borrow = 0i64;
        for (i, limb) in self.0.iter_mut().enumerate() {
            let v = i64::from(*limb) - i64::from(other.0.get(i).copied().unwrap_or(0)) - borrow;
            borrow = i64::from(v < 0);
            *limb = v.rem_euclid(1 << 32) as u32;
        }
    }
}
