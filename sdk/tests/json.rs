//! `otai_plugin_sdk::json`: the SDK's own JSON decoder (what plugins decode configs,
//! host error bodies and HTTP answers with) gives what `serde_json` gives for valid
//! input, and refuses what it refuses.

use std::collections::BTreeMap;

use otai_plugin_sdk::json;
use otai_plugin_sdk::serde::Deserialize;
use otai_plugin_sdk::serde_json::{self, Value};

#[test]
fn any_json_value_decodes_as_serde_json_decodes_it() {
    let text = r#" {
        "null": null, "t": true, "f": false,
        "ints": [0, -0, 7, -7, 18446744073709551615, -9223372036854775808],
        "floats": [1.5, -2.25e3, 6.02E+23, 1e-7, 18446744073709551616],
        "strings": ["", "plain", "esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00"],
        "nested": {"a": [{"b": []}, {}]}
    } "#;
    let ours: Value = json::from_str(text).unwrap();
    let theirs: Value = serde_json::from_str(text).unwrap();
    assert_eq!(ours, theirs);
}

#[test]
fn invalid_json_is_refused_like_serde_json_refuses_it() {
    for text in [
        "",
        " ",
        "{",
        "[1,]",
        "{\"a\":1,}",
        "01",
        "1.",
        "-",
        "tru",
        "nul",
        "\"\\x\"",
        "\"\\ud800\"",
        "\"a\nb\"",
        "[1] 2",
        "{\"a\" 1}",
        "{1:2}",
        "NaN",
        "'a'",
        "1e400",
    ] {
        assert!(
            serde_json::from_str::<Value>(text).is_err(),
            "serde_json: {text:?}"
        );
        assert!(json::from_str::<Value>(text).is_err(), "ours: {text:?}");
    }
    let e = json::from_slice::<Value>(b"[\"\xff\"]").unwrap_err();
    assert_eq!((e.message(), e.offset()), ("not UTF-8", 2));
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(crate = "otai_plugin_sdk::serde")]
enum Shape {
    Dot,
    Circle(u32),
    Rect { w: u32, h: u32 },
    Line(i32, i32),
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(crate = "otai_plugin_sdk::serde")]
struct Everything<'a> {
    borrowed: &'a str,
    owned: String,
    maybe: Option<u8>,
    missing: Option<u8>,
    tuple: (bool, i64, f64),
    list: Vec<i16>,
    map: BTreeMap<String, u64>,
    shapes: Vec<Shape>,
    unit: (),
    ch: char,
    #[serde(default)]
    defaulted: u32,
}

#[test]
fn serde_data_model_round_trip() {
    let text = r#"{
        "borrowed": "no escapes", "owned": "with \"escapes\"", "maybe": 3, "missing": null,
        "tuple": [true, -5, 2.5], "list": [-1, 2], "map": {"b": 2, "a": 1},
        "shapes": ["Dot", {"Circle": 4}, {"Rect": {"w": 1, "h": 2}}, {"Line": [3, -4]}],
        "unit": null, "ch": "é", "ignored": {"deep": [1, {"x": null}]}
    }"#;
    let ours: Everything<'_> = json::from_str(text).unwrap();
    let theirs: Everything<'_> = serde_json::from_str(text).unwrap();
    assert_eq!(ours, theirs);
    assert_eq!(ours.shapes[3], Shape::Line(3, -4));
    assert!(
        text.as_bytes()
            .as_ptr_range()
            .contains(&ours.borrowed.as_ptr())
    );
}

#[test]
fn type_mismatches_name_what_was_found_and_what_was_expected() {
    fn err<'a, T: Deserialize<'a> + std::fmt::Debug>(text: &'a str) -> String {
        json::from_str::<T>(text).unwrap_err().to_string()
    }
    assert_eq!(
        err::<u8>("300"),
        "invalid value: integer `300`, expected u8 at byte 0"
    );
    assert_eq!(
        err::<u8>("-1"),
        "invalid value: integer `-1`, expected u8 at byte 0"
    );
    assert_eq!(
        err::<u8>("1.5"),
        "invalid type: floating point number, expected u8 at byte 0"
    );
    assert_eq!(
        err::<String>("true"),
        "invalid type: boolean `true`, expected a string at byte 0"
    );
    assert_eq!(
        err::<bool>(r#""yes""#),
        "invalid type: string \"yes\", expected a boolean at byte 0"
    );
    assert_eq!(
        err::<Vec<u8>>("{}"),
        "invalid type: map, expected a sequence at byte 0"
    );
    assert_eq!(
        err::<BTreeMap<String, u8>>("[]"),
        "invalid type: sequence, expected a map at byte 0"
    );
    assert_eq!(
        err::<()>("0"),
        "invalid type: integer `0`, expected unit at byte 0"
    );
    assert_eq!(
        err::<&str>(r#""a\nb""#),
        "invalid type: string \"a\nb\", expected a borrowed string at byte 6"
    );
    assert_eq!(
        err::<(u8, u8)>("[1, 2, 3]"),
        "more items than expected at byte 6"
    );
    assert_eq!(
        err::<Shape>(r#"{"Circle": 1, "Dot": null}"#),
        "an enum variant is an object with exactly one member at byte 20"
    );
    assert_eq!(
        err::<Shape>(r#""Square""#),
        "unknown variant `Square`, expected one of `Dot`, `Circle`, `Rect`, `Line` at byte 8"
    );
    assert_eq!(
        err::<f64>(r#""1""#),
        "invalid type: string \"1\", expected f64 at byte 0"
    );
}

#[derive(otai_plugin_sdk::serde::Serialize)]
#[serde(crate = "otai_plugin_sdk::serde")]
enum Variant<'a> {
    Unit,
    Newtype(&'a str),
    Tuple(u8, bool),
    Struct { a: Option<u8>, b: () },
}

#[derive(otai_plugin_sdk::serde::Serialize)]
#[serde(crate = "otai_plugin_sdk::serde")]
struct Written<'a> {
    text: &'a str,
    ch: char,
    small: (i8, i16, i32, i64, u8, u16, u32, u64),
    big: (i128, u128),
    floats: [f64; 5],
    single: f32,
    none: Option<&'a str>,
    some: Option<&'a str>,
    variants: Vec<Variant<'a>>,
    by_name: BTreeMap<&'a str, Vec<u8>>,
    by_number: BTreeMap<i32, bool>,
    bytes: &'a [u8],
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<u8>,
}

#[test]
fn what_is_written_is_what_serde_json_writes() {
    let all_escapes: String = (0u8..0x20).map(char::from).collect::<String>() + "\"\\/é😀\u{7f}";
    let value = Written {
        text: &all_escapes,
        ch: '"',
        small: (i8::MIN, -2, -3, i64::MIN, u8::MAX, 2, 3, u64::MAX),
        big: (i128::MIN, u128::MAX),
        floats: [1.5, -0.25, 1.0, 0.1, 123456.789],
        single: 0.1,
        none: None,
        some: Some("x"),
        variants: vec![
            Variant::Unit,
            Variant::Newtype("n"),
            Variant::Tuple(1, true),
            Variant::Struct { a: None, b: () },
        ],
        by_name: BTreeMap::from([("k", vec![1, 2]), ("", vec![])]),
        by_number: BTreeMap::from([(-1, true), (2, false)]),
        bytes: b"\x00\xff",
        skipped: None,
    };
    assert_eq!(
        json::to_string(&value).unwrap(),
        serde_json::to_string(&value).unwrap()
    );
    // And it reads back.
    let text = json::to_string(&value).unwrap();
    assert_eq!(
        json::from_str::<Value>(&text).unwrap(),
        serde_json::from_str::<Value>(&text).unwrap()
    );
}

#[test]
fn floats_that_json_cannot_hold_are_null_and_keys_must_be_scalars() {
    assert_eq!(
        json::to_string(&[f64::NAN, f64::INFINITY]).unwrap(),
        "[null,null]"
    );
    assert_eq!(json::to_string(&1e20).unwrap(), "100000000000000000000.0");
    let err = json::to_string(&BTreeMap::from([((1, 2), "v")])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "a map key must be a string, a number or a boolean at byte 1"
    );
}
