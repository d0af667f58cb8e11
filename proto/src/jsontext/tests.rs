//! The reader and writer against serde_json, the implementation they replace.
//!
//! Deliberate differences, each pinned by a test below:
//! * floats are read correctly rounded; serde_json without its `float_roundtrip` feature may be
//!   off by a few units in the last place (so trees are compared with that tolerance);
//! * a number just above `f64::MAX` that rounds down to it is read as `f64::MAX`, where
//!   serde_json reports "number out of range".

use proptest::prelude::*;

use super::*;
use crate::content::{CustomElem, TextElem};
use crate::msgjson::{to_text, ToJson};

/// What serde_json makes of `text` (the previous `Json::parse`).
fn serde_parse(text: &str) -> Result<Json, serde_json::Error> {
    serde_json::from_str(text)
}

/// What serde_json writes for `value` (the previous `to_text`).
fn serde_write(value: &Json) -> String {
    serde_json::to_string(&value.to_out()).unwrap()
}

/// Two floats equal up to a few units in the last place.
fn close(a: f64, b: f64) -> bool {
    let (x, y) = (a.to_bits() as i64, b.to_bits() as i64);
    a == b || (a.is_sign_negative() == b.is_sign_negative() && (x - y).abs() <= 4)
}

/// Two trees equal, floats compared with [`close`].
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::F64(x), Json::F64(y)) => close(*x, *y),
        (Json::List(x), Json::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Json::Obj(x), Json::Obj(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, a), (kb, b))| ka == kb && same(a, b))
        }
        _ => a == b,
    }
}

/// The tree that reading `value`'s text gives back: non-negative `I64` reads as `U64`, and
/// non-finite floats are written as `null`.
fn canonical(value: &Json) -> Json {
    match value {
        Json::I64(n) if *n >= 0 => Json::U64(*n as u64),
        Json::F64(f) if !f.is_finite() => Json::Null,
        Json::List(items) => Json::List(items.iter().map(canonical).collect()),
        Json::Obj(members) => Json::Obj(
            members
                .iter()
                .map(|(k, v)| (k.clone(), canonical(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\\x00-\\x7f]{0,12}",
        "[<>&\u{2028}\u{2029}\u{2027}\u{202a}\"\\\\/a\u{0}\u{8}\u{c}\u{1f}\u{7f}é€😀]{0,10}",
    ]
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        any::<u64>().prop_map(f64::from_bits),
        prop::sample::select(vec![
            0.0,
            -0.0,
            1.0,
            0.1,
            1e15,
            1e16,
            1e21,
            1e-7,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            5e-324,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ]),
    ]
}

fn leaf() -> impl Strategy<Value = Json> {
    prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::I64),
        any::<u64>().prop_map(Json::U64),
        prop::sample::select(vec![i64::MIN, i64::MIN + 1, -1, 0, i64::MAX]).prop_map(Json::I64),
        prop::sample::select(vec![0, u64::MAX, 1 << 63]).prop_map(Json::U64),
        float().prop_map(Json::F64),
        text().prop_map(Json::Str),
    ]
}

fn tree() -> impl Strategy<Value = Json> {
    leaf().prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Json::List),
            prop::collection::vec((text(), inner), 0..8).prop_map(Json::Obj),
        ]
    })
}

/// JSON-like text: a written tree with a few characters inserted, removed or replaced.
fn near_json() -> impl Strategy<Value = String> {
    let edit = (
        any::<prop::sample::Index>(),
        0u8..3,
        "[\\[\\]{}\",:0-9eE.+\\-\\\\u tfnrl ]",
    );
    (tree(), prop::collection::vec(edit, 0..4)).prop_map(|(value, edits)| {
        let mut chars: Vec<char> = serde_write(&value).chars().collect();
        for (at, kind, with) in edits {
            let at = at.index(chars.len() + 1);
            let with = with.chars().next().unwrap_or(' ');
            match kind {
                0 => chars.insert(at, with),
                1 if at < chars.len() => {
                    chars.remove(at);
                }
                _ if at < chars.len() => chars[at] = with,
                _ => chars.push(with),
            }
        }
        chars.into_iter().collect()
    })
}

/// Our reader and serde_json agree on `text`: both refuse it, or both read the same tree.
fn agree(text: &str) -> Result<(), TestCaseError> {
    match (parse(text), serde_parse(text)) {
        (Ok(ours), Ok(theirs)) => {
            prop_assert!(same(&ours, &theirs), "{text:?}: {ours:?} vs {theirs:?}")
        }
        (Err(_), Err(_)) => {}
        (Ok(ours), Err(e)) => {
            // The one accepted difference: a number that rounds down to ±f64::MAX.
            prop_assert!(
                e.to_string().contains("number out of range") && has_huge(&ours),
                "{text:?}: we read {ours:?}, serde_json: {e}"
            );
        }
        (Err(e), Ok(theirs)) => {
            prop_assert!(
                false,
                "{text:?}: we refuse ({e}), serde_json reads {theirs:?}"
            )
        }
    }
    Ok(())
}

fn has_huge(value: &Json) -> bool {
    match value {
        Json::F64(f) => f.abs() > 1.7e308,
        Json::List(items) => items.iter().any(has_huge),
        Json::Obj(members) => members.iter().any(|(_, v)| has_huge(v)),
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn writer_matches_serde_json(value in tree()) {
        prop_assert_eq!(to_text(&value), serde_write(&value));
    }

    #[test]
    fn reading_written_text_gives_the_tree_back(value in tree()) {
        let text = serde_write(&value);
        prop_assert_eq!(parse(&text).unwrap(), canonical(&value));
        prop_assert!(same(&serde_parse(&text).unwrap(), &canonical(&value)));
    }

    #[test]
    fn reader_agrees_with_serde_json_on_near_json(text in near_json()) {
        agree(&text)?;
    }

    #[test]
    fn reader_agrees_with_serde_json_on_json_characters(
        text in "[\\[\\]{}\",:0-9eE.+\\-\\\\u tfnrlsavx\u{1}\u{e9}]{0,24}"
    ) {
        agree(&text)?;
    }

    #[test]
    fn reader_agrees_with_serde_json_on_any_string(text in any::<String>()) {
        agree(&text)?;
    }

    #[test]
    fn reader_agrees_with_serde_json_on_any_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..64)
    ) {
        let theirs = serde_json::from_slice::<Json>(&bytes);
        match parse_slice(&bytes) {
            Ok(ours) => prop_assert!(same(&ours, &theirs.unwrap())),
            Err(_) => prop_assert!(theirs.is_err()),
        }
    }

    #[test]
    fn skipping_agrees_with_serde_ignored_any(text in near_json()) {
        let theirs = serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok();
        prop_assert_eq!(raw_value(&text).is_ok(), theirs, "{:?}", text);
        if let Ok(raw) = raw_value(&text) {
            prop_assert_eq!(raw, text.trim_matches([' ', '\t', '\n', '\r']));
        }
    }

    #[test]
    fn go_escapes_match_the_go_formatter(content in text(), other in text()) {
        let elem = TextElem::new(content.as_str());
        prop_assert_eq!(
            elem.to_content().unwrap(),
            crate::json::to_go_vec(&elem).unwrap()
        );
        let custom = CustomElem { data: content, description: other, extension: "<&>".into() };
        prop_assert_eq!(
            custom.to_content().unwrap(),
            crate::json::to_go_vec(&custom).unwrap()
        );
        prop_assert_eq!(CustomElem::from_content(&custom.to_content().unwrap()).unwrap(), custom);
    }
}

#[test]
fn escapes_are_decoded() {
    let text = r#""\" \\ \/ \b \f \n \r \t \u0041 \u00e9 \u20AC \ud83d\ude00""#;
    assert_eq!(
        parse(text).unwrap(),
        Json::Str("\" \\ / \u{8} \u{c} \n \r \t A é € 😀".into())
    );
    for bad in [
        r#""\v""#,
        r#""\x""#,
        r#""\u12""#,
        r#""\u12G4""#,
        r#""\"#,
        "\"a\u{1}\"",
        "\"a",
    ] {
        assert!(parse(bad).is_err(), "{bad:?}");
        assert!(serde_parse(bad).is_err(), "{bad:?}");
    }
    // DEL and non-ASCII need no escape.
    assert_eq!(parse("\"\u{7f}é\"").unwrap(), Json::Str("\u{7f}é".into()));
}

#[test]
fn escapes_are_written_as_serde_json_writes_them() {
    let value = Json::Str("\"\\/\u{0}\u{8}\u{c}\n\r\t\u{b}\u{1f}\u{7f}<>&é\u{2028}".into());
    let written = to_text(&value);
    assert_eq!(
        written,
        "\"\\\"\\\\/\\u0000\\b\\f\\n\\r\\t\\u000b\\u001f\u{7f}<>&é\u{2028}\""
    );
    assert_eq!(written, serde_write(&value));
    assert_eq!(
        write(value.to_out(), true),
        "\"\\\"\\\\/\\u0000\\b\\f\\n\\r\\t\\u000b\\u001f\u{7f}\\u003c\\u003e\\u0026é\\u2028\""
    );
}

#[test]
fn surrogates_must_pair() {
    assert_eq!(parse(r#""\uD834\uDD1E""#).unwrap(), Json::Str("𝄞".into()));
    for lone in [
        r#""\ud800""#,
        r#""\udc00""#,
        r#""\ud800x""#,
        r#""\ud800\u0041""#,
        r#""\ud800\ud800\udc00""#,
        r#""\udc00\ud800""#,
        r#""\ud800\n""#,
    ] {
        let err = parse(lone).unwrap_err().to_string();
        assert!(err.contains("line 1 column"), "{err}");
        assert!(serde_parse(lone).is_err(), "{lone:?}");
        // Skipping (serde's `IgnoredAny`) checks the form of an escape only.
        assert!(raw_value(lone).is_ok(), "{lone:?}");
        assert!(serde_json::from_str::<serde::de::IgnoredAny>(lone).is_ok());
    }
    assert!(raw_value(r#""\ud800\uZZZZ""#).is_err());
}

#[test]
fn nesting_is_limited_like_serde_json() {
    for depth in [1, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 1000] {
        let list = "[".repeat(depth) + &"]".repeat(depth);
        let object = "{\"a\":".repeat(depth) + "1" + &"}".repeat(depth);
        for text in [list, object] {
            assert_eq!(parse(&text).is_ok(), depth <= MAX_DEPTH, "{depth}");
            assert_eq!(serde_parse(&text).is_ok(), depth <= MAX_DEPTH, "{depth}");
            // Skipping has no depth limit (as `IgnoredAny`), and never recurses.
            assert!(raw_value(&text).is_ok());
        }
    }
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    assert!(raw_value(&deep).is_ok());
    assert!(parse(&deep)
        .unwrap_err()
        .to_string()
        .contains("nesting too deep"));
}

#[test]
fn integers_at_the_edges() {
    let cases = [
        ("0", Json::U64(0)),
        ("-0", Json::F64(-0.0)),
        ("18446744073709551615", Json::U64(u64::MAX)),
        ("18446744073709551616", Json::F64(18446744073709551616.0)),
        ("9223372036854775807", Json::U64(i64::MAX as u64)),
        ("-1", Json::I64(-1)),
        ("-9223372036854775808", Json::I64(i64::MIN)),
        ("-9223372036854775809", Json::F64(-9223372036854775809.0)),
        ("1.0", Json::F64(1.0)),
        ("1e2", Json::F64(100.0)),
        ("1E+2", Json::F64(100.0)),
        ("-1.5e-3", Json::F64(-0.0015)),
        ("1e-400", Json::F64(0.0)),
        ("0e99999999999", Json::F64(0.0)),
        ("1.7976931348623157e308", Json::F64(f64::MAX)),
    ];
    for (text, want) in cases {
        let ours = parse(text).unwrap();
        assert_eq!(ours, want, "{text}");
        assert_eq!(ours.to_text(), serde_write(&want), "{text}");
        let theirs = serde_parse(text).unwrap();
        assert_eq!(theirs, want, "{text}");
        if let Json::F64(f) = ours {
            assert_eq!(f.is_sign_negative(), text.starts_with('-'), "{text}");
        }
    }
    for bad in [
        "01", "-01", "00", "1.", "1.e5", ".5", "+1", "-", "1e", "1e+", "--1", "1x", "0x10",
        "1e400", "-1e400", "NaN", "Infinity",
    ] {
        assert!(parse(bad).is_err(), "{bad}");
        assert!(serde_parse(bad).is_err(), "{bad}");
    }
    for n in [i64::MIN, -1, 0, 1, i64::MAX] {
        assert_eq!(to_text(&Json::I64(n)), n.to_string());
    }
    assert_eq!(to_text(&Json::U64(u64::MAX)), "18446744073709551615");
}

#[test]
fn floats_are_read_correctly_rounded() {
    // serde_json (without `float_roundtrip`) reads this 1 ulp low; the text is the shortest
    // form of `want`, so reading it must give `want` exactly.
    let want = 1.947_700_395_895_162e-169;
    let text = to_text(&Json::F64(want));
    assert_eq!(parse(&text).unwrap(), Json::F64(want));
    assert!(matches!(serde_parse(&text).unwrap(), Json::F64(f) if f != want && close(f, want)));
    // Just above f64::MAX, rounding down: serde_json refuses what is f64::MAX when rounded.
    assert_eq!(
        parse("1.7976931348623158e308").unwrap(),
        Json::F64(f64::MAX)
    );
    assert!(serde_parse("1.7976931348623158e308").is_err());
    assert!(parse("1.7976931348623159e308").is_err());
}

#[test]
fn floats_are_written_as_serde_json_writes_them() {
    for f in [
        1.0,
        0.1,
        -0.0,
        1e15,
        1e16,
        1e-7,
        123_456_789.0,
        f64::MAX,
        5e-324,
    ] {
        assert_eq!(to_text(&f), serde_json::to_string(&f).unwrap());
    }
    assert_eq!(to_text(&1e16), "1e+16");
    assert_eq!(to_text(&f64::NAN), "null");
    assert_eq!(to_text(&f64::NEG_INFINITY), "null");
    for f in [1.0f32, 0.1, 16_777_216.0, f32::MAX, 1e-45, f32::NAN] {
        assert_eq!(to_text(&f), serde_json::to_string(&f).unwrap());
    }
    // The layout at the ends of the plain range, and shortest digits that tie: the even one.
    for (f, text) in [
        (1.5e-5, "0.000015"),
        (1.5e-6, "1.5e-6"),
        (1.5e15, "1500000000000000.0"),
        (1e-7, "1e-7"),
        (123_456_789_012_345_680_000.0, "1.2345678901234568e+20"),
        (f64::MAX, "1.7976931348623157e+308"),
        (-0.0, "-0.0"),
        (5e-324, "5e-324"),
        (2f64.powi(50) + 0.25, "1125899906842624.2"),
        (2f64.powi(50) + 0.75, "1125899906842624.8"),
    ] {
        assert_eq!(to_text(&f), text);
    }
    for (f, text) in [
        (1.5e-6f32, "0.0000015"),
        (1.5e12, "1500000000000.0"),
        (1.5e13, "1.5e+13"),
    ] {
        assert_eq!(to_text(&f), text);
    }
}

/// Our text for `f` and serde_json's, for `f64` and as `f32`.
fn assert_float_text(f: f64) -> Result<(), TestCaseError> {
    prop_assert_eq!(to_text(&f), serde_json::to_string(&f).unwrap());
    let single = f as f32;
    prop_assert_eq!(to_text(&single), serde_json::to_string(&single).unwrap());
    Ok(())
}

#[test]
fn powers_of_two_are_written_as_serde_json_writes_them() {
    // The lowest value of each binade has a closer neighbour below; check it and its neighbours,
    // and the subnormal powers of two.
    for field in 1..2047u64 {
        let bits = field << 52;
        for bits in [bits - 1, bits, bits + 1] {
            assert_float_text(f64::from_bits(bits)).unwrap();
        }
    }
    for shift in 0..52 {
        assert_float_text(f64::from_bits(1 << shift)).unwrap();
    }
    for field in 1..255u32 {
        let bits = field << 23;
        for bits in [bits - 1, bits, bits + 1] {
            let f = f32::from_bits(bits);
            assert_eq!(to_text(&f), serde_json::to_string(&f).unwrap());
        }
    }
    for shift in 0..23 {
        let f = f32::from_bits(1 << shift);
        assert_eq!(to_text(&f), serde_json::to_string(&f).unwrap());
    }
}

#[test]
fn other_values_are_written_as_serde_json_writes_them() {
    let bytes = crate::pb::protobuf::BytesValue {
        value: vec![0, 1, 2, 250, 251],
    };
    assert_eq!(to_text(&bytes), "\"AAEC+vs=\"");
    assert_eq!(to_text(&bytes), serde_json::to_string(&bytes).unwrap());
    assert_eq!(to_text(&None::<i32>), "null");
    assert_eq!(to_text(&Some(-5i32)), "-5");
    assert_eq!(to_text(&Vec::<u32>::new()), "[]");
    let map: crate::pb::Map<String, bool> = [("b\"".to_owned(), true)].into();
    assert_eq!(to_text(&map), r#"{"b\"":true}"#);
    assert_eq!(to_text(&map), serde_json::to_string(&map).unwrap());
}

#[test]
fn structure_errors() {
    for bad in [
        "",
        " ",
        "[1,]",
        "{\"a\":1,}",
        "[1 2]",
        "{\"a\" 1}",
        "{1:2}",
        "{\"a\":}",
        "[",
        "{",
        "]",
        "nul",
        "nulll",
        "tru",
        "falsey",
        "1 2",
        "\u{feff}1",
        "[1]x",
        "{\"a\":1}}",
    ] {
        assert!(parse(bad).is_err(), "{bad:?}");
        assert!(serde_parse(bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        parse(" \t\r\n[ 1 , { \"a\" : null } ] \n").unwrap(),
        Json::List(vec![
            Json::U64(1),
            Json::Obj(vec![("a".into(), Json::Null)])
        ])
    );
    // Duplicate keys are kept, in order.
    assert_eq!(
        parse(r#"{"a":1,"a":2}"#).unwrap(),
        Json::Obj(vec![("a".into(), Json::U64(1)), ("a".into(), Json::U64(2))])
    );
}

#[test]
fn errors_name_the_line_and_column() {
    let err = parse("{\n  \"a\": [1,\n  é, 2]\n}")
        .unwrap_err()
        .to_string();
    assert_eq!(err, "expected a value at line 3 column 3");
    let err = parse("[1, 2").unwrap_err().to_string();
    assert_eq!(err, "unexpected end of input at line 1 column 6");
    let err = parse("[1] 2").unwrap_err().to_string();
    assert_eq!(
        err,
        "trailing characters after the JSON value at line 1 column 5"
    );
    let err = parse_slice(b"[\"\xff\"]").unwrap_err().to_string();
    assert_eq!(err, "invalid UTF-8 at byte offset 2");
}

#[test]
fn raw_members_keep_each_value_as_written() {
    let members = raw_members(" {\"type\" : \"ping\", \"body\":[1, {\"k\" : 2}] } ").unwrap();
    assert_eq!(
        members,
        vec![
            ("type".to_owned(), "\"ping\""),
            ("body".to_owned(), "[1, {\"k\" : 2}]")
        ]
    );
    assert_eq!(raw_members("{}").unwrap(), vec![]);
    for bad in [
        "[]",
        "{\"a\":1,}",
        "{\"a\":1} x",
        "{\"\\ud800\":1}",
        "{\"a\" 1}",
        "",
    ] {
        assert!(raw_members(bad).is_err(), "{bad:?}");
    }
}

/// What the standard library reads (correctly rounded), `None` for infinity.
fn std_f64(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|f| f.is_finite())
}

fn assert_float(text: &str) -> Result<(), TestCaseError> {
    let ours = float::parse_f64(text);
    let want = std_f64(text);
    prop_assert_eq!(
        ours.map(f64::to_bits),
        want.map(f64::to_bits),
        "{}: {:?} vs {:?}",
        text,
        ours,
        want
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    #[test]
    fn floats_read_back_from_their_shortest_text(bits in any::<u64>()) {
        let f = f64::from_bits(bits);
        prop_assume!(f.is_finite());
        assert_float(&to_text(&f))?;
        // Long expansions close to the value, and the exact expansion of subnormals.
        assert_float(&format!("{f:.40e}"))?;
        assert_float(&format!("{f:.17e}"))?;
    }

    #[test]
    fn floats_are_written_as_serde_json_writes_them_for_any_bits(bits in any::<u64>()) {
        assert_float_text(f64::from_bits(bits))?;
        let single = f32::from_bits(bits as u32);
        prop_assert_eq!(to_text(&single), serde_json::to_string(&single).unwrap());
    }

    /// Values next to short decimals, where the ends of the rounding interval and ties matter.
    #[test]
    fn floats_near_short_decimals_are_written_as_serde_json_writes_them(
        text in "[1-9][0-9]{0,17}(5|50|49|51)?e-?[0-9]{1,3}",
        step in -1i64..=1,
    ) {
        let f = text.parse::<f64>().unwrap();
        assert_float_text(f64::from_bits(f.to_bits().wrapping_add_signed(step)))?;
        let single = text.parse::<f32>().unwrap();
        let single = f32::from_bits(single.to_bits().wrapping_add_signed(step as i32));
        prop_assert_eq!(to_text(&single), serde_json::to_string(&single).unwrap());
    }

    #[test]
    fn floats_read_like_the_standard_library(
        text in "-?(0|[1-9][0-9]{0,25})(\\.[0-9]{1,25})?([eE][+-]?[0-9]{1,3})?"
    ) {
        assert_float(&text)?;
    }
}

#[test]
fn hard_floats_read_like_the_standard_library() {
    let long = format!("0.{}1", "0".repeat(1000));
    let many = format!("1{}e-900", "0".repeat(900));
    let halfway = format!("9007199254740993{}", "0".repeat(900));
    let above_halfway = format!("9007199254740993{}1e-900", "0".repeat(900));
    for text in [
        "2.2250738585072011e-308",
        "2.2250738585072012e-308",
        "2.4703282292062327e-324",
        "2.4703282292062328e-324",
        "4.9406564584124654e-324",
        "1e-324",
        "1.7976931348623157e308",
        "1.7976931348623158e308",
        "1.7976931348623159e308",
        "9007199254740993",
        "9007199254740995",
        "9007199254740993.0000000000000000000000000000001",
        "0.1",
        "0.3",
        "123456789012345678901234567890",
        "1e23",
        "8.98846567431158e307",
        "0e10",
        "-0.0",
        &long,
        &many,
        &halfway,
        &above_halfway,
    ] {
        assert_float(text).unwrap();
    }
}

#[test]
fn content_elements_read_like_their_serde_derive() {
    for text in [
        r#"{"content":"hi"}"#,
        r#"{"content":null,"x":[1,{"y":2}]}"#,
        r#"{}"#,
        r#"{"content":"a","content":"b"}"#,
        r#"{"content":5}"#,
        r#"{"content":"\ud83d\ude00 <&>"}"#,
        r#"{"content":"\ud83d"}"#,
        "null",
        "\"hi\"",
        "{\"content\":\"hi\"} x",
    ] {
        let ours = TextElem::from_content(text.as_bytes()).ok();
        let theirs = serde_json::from_slice::<TextElem>(text.as_bytes()).ok();
        assert_eq!(ours, theirs, "{text}");
    }
    // The one difference: serde's derive also reads a struct from an array of its fields;
    // Go's encoding/json and this reader take an object only.
    assert!(serde_json::from_slice::<TextElem>(br#"["hi"]"#).is_ok());
    assert!(TextElem::from_content(br#"["hi"]"#).is_err());
}

proptest! {
    #[test]
    fn text_frames_write_like_serde_json(code in any::<i32>(), msg in text(), detail in text()) {
        let result = crate::envelope::HandshakeResult::error(code, msg.clone(), detail);
        prop_assert_eq!(result.encode(), serde_json::to_string(&result).unwrap());
        let raw = crate::envelope::RawJson::string(&msg);
        prop_assert_eq!(raw.as_str(), serde_json::to_string(&msg).unwrap());
        prop_assert_eq!(raw.as_string(), Some(msg));
    }
}
