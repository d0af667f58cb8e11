//! The reader and writer against serde_json, the implementation they replace.
//!
//! serde_json reads every number that is not an integer in range as an `f64` (without its
//! `float_roundtrip` feature, possibly a few units in the last place off); here such a number is
//! kept as its text. So trees are compared by the values of their numbers, within that tolerance
//! ([`same`]), and the writer is compared with serde_json on numbers in serde_json's own text,
//! which it writes back unchanged. Deliberate differences, each pinned by a test below:
//! * a number is written back as the text it was read from, byte for byte (`1E+2`, `-0`, `1.50`),
//!   where serde_json writes its `f64` in shortest form;
//! * a number beyond the range of `f64` (`1e400`, or `1.7976931348623158e308`, which serde_json
//!   rounds up) is accepted as its text, where serde_json reports "number out of range".

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

/// The value of JSON number text, correctly rounded (as the standard library reads it; infinite
/// beyond the range of `f64`).
fn value_of(text: &str) -> f64 {
    text.parse()
        .unwrap_or_else(|err| panic!("{text:?} is not a number: {err}"))
}

/// Two numbers of the same sign, equal up to a few units in the last place.
fn close(a: f64, b: f64) -> bool {
    let (x, y) = (a.to_bits() as i64, b.to_bits() as i64);
    a.is_sign_negative() == b.is_sign_negative() && (x - y).abs() <= 4
}

/// Two trees equal, number texts compared by their values with [`close`].
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => close(value_of(x), value_of(y)),
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

/// The tree that reading `value`'s text gives back: non-negative `I64` reads as `U64`.
fn canonical(value: &Json) -> Json {
    match value {
        Json::I64(n) if *n >= 0 => Json::U64(*n as u64),
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

/// What the reader must make of JSON number text: an integer in `u64` range as `U64`, a negative
/// one in `i64` range as `I64`, anything else (`-0` too) as its text.
fn read_as(text: &str) -> Json {
    let number = Json::Number(text.to_owned());
    if text.contains(['.', 'e', 'E']) || text == "-0" {
        return number;
    }
    match text.parse::<i128>() {
        Ok(n) if n < 0 => i64::try_from(n).map_or(number, Json::I64),
        Ok(n) => u64::try_from(n).map_or(number, Json::U64),
        // Beyond `i128`, so beyond both ranges.
        Err(_) => number,
    }
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\\x00-\\x7f]{0,12}",
        "[<>&\u{2028}\u{2029}\u{2027}\u{202a}\"\\\\/a\u{0}\u{8}\u{c}\u{1f}\u{7f}é€😀]{0,10}",
    ]
}

/// serde_json's own text for a finite `f64` (shortest digits in its layout: `1.0`, `1e+16`,
/// `-0.0`), which it reads back as the same value and writes unchanged.
fn serde_number() -> impl Strategy<Value = String> {
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
        ]),
    ]
    .prop_filter_map("finite", |f: f64| {
        f.is_finite().then(|| serde_json::to_string(&f).unwrap())
    })
}

/// Number texts at the edges: zeros, the ends of the integer ranges, `f64`'s limits and beyond.
const EDGE_NUMBERS: &[&str] = &[
    "0",
    "-0",
    "0.0",
    "-0.0",
    "0e0",
    "-0E-0",
    "1e2",
    "1E+2",
    "1.50",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "-18446744073709551616",
    "5e-324",
    "2.4703282292062327e-324",
    "1e-400",
    "-1e-99999999999999999999",
    "0e99999999999999999999",
    "1.7976931348623157e308",
    "1.7976931348623158e308",
    "1.7976931348623159e308",
    "1e400",
    "-1e400",
    "1e99999999999999999999",
];

/// JSON number text of every form: fractions, exponents (huge ones too), `-0`, integers in and
/// beyond the 64-bit ranges, and serde_json's own form.
fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?(0|[1-9][0-9]{0,25})(\\.[0-9]{1,25})?([eE][+-]?[0-9]{1,3})?",
        "-?(0|[1-9][0-9]{0,3})(\\.[0-9]{1,3})?[eE][+-]?[0-9]{1,25}",
        "-?[1-9][0-9]{17,45}",
        prop::sample::select(EDGE_NUMBERS).prop_map(str::to_owned),
        serde_number(),
    ]
}

fn leaf(numbers: BoxedStrategy<String>) -> impl Strategy<Value = Json> {
    prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::I64),
        any::<u64>().prop_map(Json::U64),
        prop::sample::select(vec![i64::MIN, i64::MIN + 1, -1, 0, i64::MAX]).prop_map(Json::I64),
        prop::sample::select(vec![0, u64::MAX, 1 << 63]).prop_map(Json::U64),
        numbers.prop_map(|text| read_as(&text)),
        text().prop_map(Json::Str),
    ]
}

fn tree_of(numbers: BoxedStrategy<String>) -> impl Strategy<Value = Json> {
    leaf(numbers).prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Json::List),
            prop::collection::vec((text(), inner), 0..8).prop_map(Json::Obj),
        ]
    })
}

/// A tree whose numbers are in serde_json's own text, so that it writes them unchanged too.
fn tree() -> impl Strategy<Value = Json> {
    tree_of(serde_number().boxed())
}

/// A tree with numbers of every form.
fn any_tree() -> impl Strategy<Value = Json> {
    tree_of(number_text().boxed())
}

/// JSON-like text: a written tree with a few characters inserted, removed or replaced.
fn near_json() -> impl Strategy<Value = String> {
    let edit = (
        any::<prop::sample::Index>(),
        0u8..3,
        "[\\[\\]{}\",:0-9eE.+\\-\\\\u tfnrl ]",
    );
    (any_tree(), prop::collection::vec(edit, 0..4)).prop_map(|(value, edits)| {
        let mut chars: Vec<char> = to_text(&value).chars().collect();
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

/// Our reader and serde_json agree on `text`: see [`agree_on`].
fn agree(text: &str) -> Result<(), TestCaseError> {
    agree_on(text, parse(text), serde_parse(text))
}

/// Our reading of `text` and serde_json's agree: both refuse it, or both read the same tree,
/// or serde_json alone refuses it for a number beyond the range of `f64` that we keep as text.
fn agree_on(
    text: &str,
    ours: Result<Json, JsonError>,
    theirs: Result<Json, serde_json::Error>,
) -> Result<(), TestCaseError> {
    match (ours, theirs) {
        (Ok(ours), Ok(theirs)) => {
            prop_assert!(same(&ours, &theirs), "{text:?}: {ours:?} vs {theirs:?}")
        }
        (Err(_), Err(_)) => {}
        (Ok(ours), Err(e)) => {
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

/// Whether the tree holds a number at or beyond the end of `f64`'s range.
fn has_huge(value: &Json) -> bool {
    match value {
        Json::Number(text) => value_of(text).abs() > 1.7e308,
        Json::List(items) => items.iter().any(has_huge),
        Json::Obj(members) => members.iter().any(|(_, v)| has_huge(v)),
        _ => false,
    }
}

/// `text`, a JSON number, reads as [`read_as`] says, alone and inside a list and an object, and
/// is written back byte for byte; serde_json reads the same value, or refuses it only when it is
/// beyond the range of `f64` (and always when it is infinite as an `f64`).
fn check_number(text: &str) -> Result<(), TestCaseError> {
    let ours = parse(text);
    prop_assert_eq!(&ours, &Ok(read_as(text)), "{}", text);
    prop_assert_eq!(to_text(&ours.unwrap()), text);
    prop_assert_eq!(raw_value(text), Ok(text));
    let spaced = format!(" [ {text} , {{ \"n\" : {text} }} ] ");
    let nested = parse(&spaced).map(|value| to_text(&value));
    prop_assert_eq!(nested, Ok(format!("[{text},{{\"n\":{text}}}]")));
    agree(text)?;
    agree(&spaced)?;
    if value_of(text).is_infinite() {
        prop_assert!(serde_parse(text).is_err(), "{}", text);
    }
    Ok(())
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
    fn reading_and_writing_again_keeps_every_byte(value in any_tree()) {
        let text = to_text(&value);
        let back = parse(&text).unwrap();
        prop_assert_eq!(&back, &canonical(&value));
        prop_assert_eq!(to_text(&back), text.clone());
        agree(&text)?;
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
    fn reader_agrees_with_serde_json_on_number_characters(text in "[ \\[0-9eE.+\\-]{0,16}") {
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
        let text = String::from_utf8_lossy(&bytes);
        agree_on(&text, parse_slice(&bytes), serde_json::from_slice(&bytes))?;
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    #[test]
    fn numbers_are_kept_as_their_text(text in number_text()) {
        check_number(&text)?;
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
fn numbers_at_the_edges() {
    let number = |text: &str| Json::Number(text.to_owned());
    let cases = [
        ("0", Json::U64(0)),
        ("-0", number("-0")),
        ("18446744073709551615", Json::U64(u64::MAX)),
        ("18446744073709551616", number("18446744073709551616")),
        ("9223372036854775807", Json::U64(i64::MAX as u64)),
        ("-1", Json::I64(-1)),
        ("-9223372036854775808", Json::I64(i64::MIN)),
        ("-9223372036854775809", number("-9223372036854775809")),
        ("1.0", number("1.0")),
        ("1.50", number("1.50")),
        ("1e2", number("1e2")),
        ("1E+2", number("1E+2")),
        ("-1.5e-3", number("-1.5e-3")),
        ("1e-400", number("1e-400")),
        ("0e99999999999", number("0e99999999999")),
        ("1.7976931348623157e308", number("1.7976931348623157e308")),
    ];
    for (text, want) in cases {
        let ours = parse(text).unwrap();
        assert_eq!(ours, want, "{text}");
        assert_eq!(ours.to_text(), text, "{text}");
        // serde_json reads the same value (zeros with their sign).
        let theirs = serde_parse(text).unwrap();
        assert!(same(&theirs, &want), "{text}: {theirs:?}");
    }
    for bad in [
        "01",
        "-01",
        "00",
        "1.",
        "1.e5",
        ".5",
        "+1",
        "-",
        "1e",
        "1e+",
        "--1",
        "1x",
        "0x10",
        "NaN",
        "Infinity",
        "-Infinity",
        "inf",
        "1e+-2",
        "1ee2",
        "1.5.2",
        "0.e1",
        "-.5",
    ] {
        assert!(parse(bad).is_err(), "{bad}");
        assert!(serde_parse(bad).is_err(), "{bad}");
        assert!(raw_value(bad).is_err(), "{bad}");
    }
    for n in [i64::MIN, -1, 0, 1, i64::MAX] {
        assert_eq!(to_text(&Json::I64(n)), n.to_string());
    }
    assert_eq!(to_text(&Json::U64(u64::MAX)), "18446744073709551615");
}

#[test]
fn numbers_beyond_f64_are_kept_where_serde_json_refuses_them() {
    let long = format!("1{}", "0".repeat(400));
    for text in [
        "1e400",
        "-1e400",
        "1.7976931348623158e308",
        "-0.5e309",
        "1e99999999999999999999",
        &long,
    ] {
        let ours = parse(text).unwrap();
        assert_eq!(ours, Json::Number(text.to_owned()));
        assert_eq!(ours.to_text(), text);
        let err = serde_parse(text).unwrap_err().to_string();
        assert!(err.contains("number out of range"), "{text}: {err}");
        check_number(text).unwrap();
    }
    // Just below the end of the range, both read it.
    check_number("1.7976931348623157e308").unwrap();
    assert!(serde_parse("1.7976931348623157e308").is_ok());
    // Through serde, a number is its nearest `f64`: beyond the range, infinite, which
    // serde_json writes as `null`.
    assert_eq!(serde_write(&Json::Number("1e400".into())), "null");
    assert_eq!(serde_write(&Json::Number("1E+2".into())), "100.0");
    assert_eq!(to_text(&Json::Number("1E+2".into())), "1E+2");
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

#[test]
fn long_and_hard_numbers_are_kept_as_their_text() {
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
        "9007199254740993",
        "9007199254740995",
        "9007199254740993.0000000000000000000000000000001",
        "1.947700395895162e-169",
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
        check_number(text).unwrap();
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
