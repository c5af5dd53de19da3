//! The second copy of a custom section in linear memory, dropped.
//!
//! rustc 1.95 gives a `#[link_section = "NAME"] #[used]` static two homes on wasm32: the
//! custom section NAME, where hosts read it, and the module's data, where nothing does
//! (rust-lang/rust#161862, merged after 1.95, stops the second). The SDK's `ohd_abi`
//! marker and the `ohd_manifest` that `#[plugin]` writes are such statics: every plugin
//! carried its manifest twice.
//!
//! A copy is dropped only when that is sure to change nothing a plugin can observe: it
//! is found exactly once, whole, in an active data segment at a constant `i32` address,
//! and nothing reads it. In a module built with the Rust SDK (its `ohd_abi` marker says
//! `otai-plugin-sdk`) that holds by construction: the two statics are private to the
//! SDK and to the code `#[plugin]` writes, and neither reads them. In any other module
//! no constant in the code, in a global's initializer or in an aligned word of the data
//! may point into the copy (a static that nothing addresses is read by nothing); such a
//! check alone would keep most copies, since the first static sits where the stack
//! ends, an address the stack pointer starts at and that UTF-8 encoding compares with.
//!
//! The memory a copy occupied then starts zeroed, as the data around it is still
//! written; no other byte of the module changes, and segment indices stay as they were
//! (a segment cut in two keeps its index for the first part, the second part is
//! appended), so that `memory.init` and `data.drop` still name the segments they named.

use std::ops::Range;

use anyhow::{Context, Result};
use otai_plugin_abi::marker::AbiMarker;
use otai_plugin_abi::wasm::ABI_MARKER_SECTION;
use wasm_encoder::{ConstExpr, DataCountSection, DataSection, Encode, Section};
use wasmparser::{DataKind, Operator, OperatorsReader, Parser, Payload};

/// Shorter contents could match unrelated data by chance.
const MIN_LEN: usize = 16;

/// How the Rust SDK signs its `ohd_abi` marker.
const SDK: &str = "otai-plugin-sdk ";

/// One data segment as it will be written.
struct Segment<'a> {
    /// `Some((memory, address))` for an active segment at a constant `i32` address;
    /// `None` for one this pass leaves alone (passive, or another offset expression).
    active_at: Option<(u32, u32)>,
    /// The segment's bytes in the module, to copy it unchanged.
    raw: Range<usize>,
    data: &'a [u8],
}

/// The module without the data copies of the custom sections called one of `names`,
/// and how many bytes of data that removed; `None` when there is no copy to drop.
///
/// # Errors
/// The module cannot be read.
pub(crate) fn drop_data_copies(module: &[u8], names: &[&str]) -> Result<Option<(Vec<u8>, usize)>> {
    let mut contents: Vec<(&str, &[u8])> = Vec::new();
    let mut segments: Vec<Segment<'_>> = Vec::new();
    let mut constants: Vec<u32> = Vec::new();
    let mut memory64 = false;
    let read = "failed to read the module";
    for payload in Parser::new(0).parse_all(module) {
        match payload.context(read)? {
            Payload::CustomSection(c) if names.contains(&c.name()) => {
                contents.push((c.name(), c.data()));
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    memory64 |= memory.context(read)?.memory64;
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader {
                    push_constants(
                        global.context(read)?.init_expr.get_operators_reader(),
                        &mut constants,
                    )?;
                }
            }
            Payload::CodeSectionEntry(body) => {
                push_constants(body.get_operators_reader().context(read)?, &mut constants)?;
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    let data = data.context(read)?;
                    let active_at = match data.kind {
                        DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => constant_i32(offset_expr.get_operators_reader())
                            .map(|at| (memory_index, at)),
                        DataKind::Passive => None,
                    };
                    segments.push(Segment {
                        active_at,
                        raw: data.range.clone(),
                        data: data.data,
                    });
                }
            }
            _ => {}
        }
    }
    if memory64 {
        return Ok(None);
    }
    let sdk_built = contents.iter().any(|(name, content)| {
        *name == ABI_MARKER_SECTION
            && serde_json::from_slice::<AbiMarker>(content)
                .is_ok_and(|m| m.sdk.is_some_and(|sdk| sdk.starts_with(SDK)))
    });
    // Pointers stored in data: every aligned word of every active segment.
    for segment in &segments {
        if let Some((_, at)) = segment.active_at {
            let skip = (4 - at % 4) % 4;
            for word in segment
                .data
                .get(skip as usize..)
                .unwrap_or_default()
                .chunks_exact(4)
            {
                constants.push(u32::from_le_bytes([word[0], word[1], word[2], word[3]]));
            }
        }
    }

    // (segment, range within it) of each copy to drop.
    let mut cuts: Vec<(usize, Range<usize>)> = Vec::new();
    for (name, content) in &contents {
        if content.len() < MIN_LEN || contents.iter().filter(|(n, _)| n == name).count() > 1 {
            continue;
        }
        let mut found = segments
            .iter()
            .enumerate()
            .flat_map(|(i, s)| find_all(s.data, content).into_iter().map(move |at| (i, at)));
        let (Some((i, start)), None) = (found.next(), found.next()) else {
            continue;
        };
        let Some(address) = segments[i]
            .active_at
            .and_then(|(_, at)| at.checked_add(u32::try_from(start).ok()?))
        else {
            continue;
        };
        let len = content.len() as u32;
        let addressed = !sdk_built && constants.iter().any(|&c| c >= address && c - address < len);
        if !addressed {
            cuts.push((i, start..start + content.len()));
        }
    }
    if cuts.is_empty() {
        return Ok(None);
    }
    cuts.sort_by_key(|(i, r)| (*i, r.start));
    // Copies that overlap (one section's text inside the other's) are left alone.
    let overlapping = cuts
        .windows(2)
        .any(|w| w[0].0 == w[1].0 && w[1].1.start < w[0].1.end);
    if overlapping {
        return Ok(None);
    }

    let mut section = DataSection::new();
    let mut appended: Vec<(u32, u32, &[u8])> = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        let Some((memory, at)) = segment.active_at else {
            section.raw(module.get(segment.raw.clone()).context(read)?);
            continue;
        };
        let mut pieces: Vec<(u32, &[u8])> = Vec::new();
        let mut from = 0;
        for (_, cut) in cuts.iter().filter(|(c, _)| *c == i) {
            pieces.push((at.wrapping_add(from as u32), &segment.data[from..cut.start]));
            from = cut.end;
        }
        pieces.push((at.wrapping_add(from as u32), &segment.data[from..]));
        // The segment keeps its index with its first piece that is not empty (or an
        // empty one, if the copy was all of it); the other pieces are appended.
        let mut pieces = pieces.into_iter().filter(|(_, p)| !p.is_empty());
        let (first_at, first) = pieces.next().unwrap_or((at, &[]));
        section.active(
            memory,
            &ConstExpr::i32_const(first_at as i32),
            first.iter().copied(),
        );
        appended.extend(pieces.map(|(piece_at, p)| (memory, piece_at, p)));
    }
    for (memory, at, piece) in &appended {
        section.active(
            *memory,
            &ConstExpr::i32_const(*at as i32),
            piece.iter().copied(),
        );
    }
    let removed = cuts.iter().map(|(_, r)| r.len()).sum();

    let mut out = module.get(..8).context(read)?.to_vec();
    for payload in Parser::new(0).parse_all(module) {
        let payload = payload.context(read)?;
        match &payload {
            Payload::DataCountSection { .. } => {
                let count = DataCountSection {
                    count: section.len(),
                };
                out.push(count.id());
                count.encode(&mut out);
                continue;
            }
            Payload::DataSection(_) => {
                out.push(section.id());
                section.encode(&mut out);
                continue;
            }
            _ => {}
        }
        if let Some((id, range)) = payload.as_section() {
            out.push(id);
            u32::try_from(range.len())
                .context("a section is larger than 4 GiB")?
                .encode(&mut out);
            out.extend_from_slice(module.get(range).context(read)?);
        }
    }
    Ok(Some((out, removed)))
}

/// Every `i32.const` operand, as the address it would be.
fn push_constants(mut reader: OperatorsReader<'_>, out: &mut Vec<u32>) -> Result<()> {
    while !reader.eof() {
        if let Operator::I32Const { value } = reader.read().context("failed to read the code")? {
            out.push(value as u32);
        }
    }
    Ok(())
}

/// The value of an offset expression that is one `i32.const`.
fn constant_i32(mut reader: OperatorsReader<'_>) -> Option<u32> {
    match (reader.read().ok()?, reader.read().ok()?) {
        (Operator::I32Const { value }, Operator::End) => Some(value as u32),
        _ => None,
    }
}

/// Where `needle` starts in `haystack`, every time.
fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return Vec::new();
    }
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use otai_plugin_abi::wasm::MANIFEST_SECTION;

    const MANIFEST: &str = r#"{"id":"com.example.copies","name":"Copies","version":"1.0.0"}"#;
    const SDK_MARKER: &str = r#"{"abi":1,"sdk":"otai-plugin-sdk 0.1.0"}"#;
    const OTHER_MARKER: &str = r#"{"abi":1,"sdk":"zig-ohd 0.3.0"}"#;
    const NAMES: &[&str] = &[MANIFEST_SECTION, ABI_MARKER_SECTION];

    fn wat_string(text: &str) -> String {
        text.replace('\\', "\\\\").replace('"', "\\\"")
    }

    /// A module whose data holds `data` at 65536, where the stack pointer starts (as
    /// rustc lays a plugin out), with `code` as `on_event`'s body and the two sections.
    fn module(marker: &str, data: &str, code: &str, extra: &str) -> Vec<u8> {
        wat::parse_str(format!(
            r#"(module
                (memory (export "memory") 2)
                (global $sp (mut i32) (i32.const 65536))
                (data (i32.const 65536) "{}")
                {extra}
                (func (export "on_event") (param i32 i32) {code})
                (@custom "ohd_manifest" "{}")
                (@custom "ohd_abi" "{}"))"#,
            wat_string(data),
            wat_string(MANIFEST),
            wat_string(marker)
        ))
        .expect("valid WAT")
    }

    /// Linear memory as the active segments leave it at instantiation.
    fn image(module: &[u8]) -> Vec<u8> {
        let mut memory = vec![0; 2 << 16];
        for payload in Parser::new(0).parse_all(module) {
            if let Payload::DataSection(reader) = payload.unwrap() {
                for data in reader {
                    let data = data.unwrap();
                    if let DataKind::Active { offset_expr, .. } = data.kind {
                        let at = constant_i32(offset_expr.get_operators_reader()).unwrap() as usize;
                        memory[at..at + data.data.len()].copy_from_slice(data.data);
                    }
                }
            }
        }
        memory
    }

    fn validate(module: &[u8]) {
        wasmparser::Validator::new().validate_all(module).unwrap();
    }

    #[test]
    fn an_sdk_module_loses_both_copies_and_keeps_every_other_byte_of_memory() {
        let data = format!("{MANIFEST}between{SDK_MARKER}after");
        // The stack pointer and the code name the copy's first address, as in every
        // plugin rustc links (the stack ends where the data starts).
        let wasm = module(SDK_MARKER, &data, "i32.const 65536 drop", "");
        let (out, removed) = drop_data_copies(&wasm, NAMES).unwrap().expect("dropped");
        validate(&out);
        assert_eq!(removed, MANIFEST.len() + SDK_MARKER.len());
        // Smaller by the copies, less the header of the segment the cut added.
        assert!(
            wasm.len() - out.len() + 8 >= removed,
            "{} -> {}",
            wasm.len(),
            out.len()
        );

        let mut expected = image(&wasm);
        let start = 65536;
        expected[start..start + MANIFEST.len()].fill(0);
        let marker_at = start + MANIFEST.len() + "between".len();
        expected[marker_at..marker_at + SDK_MARKER.len()].fill(0);
        assert!(
            image(&out) == expected,
            "only the copies are gone from memory"
        );

        let info = otai_plugin_abi::module::ModuleInfo::parse(&out).unwrap();
        assert_eq!(info.custom(MANIFEST_SECTION)[0].data, MANIFEST.as_bytes());
        assert_eq!(
            info.custom(ABI_MARKER_SECTION)[0].data,
            SDK_MARKER.as_bytes()
        );
        assert!(
            drop_data_copies(&out, NAMES).unwrap().is_none(),
            "idempotent"
        );
    }

    #[test]
    fn another_toolchains_copy_stays_while_anything_may_point_into_it() {
        let data = format!("{MANIFEST}after");
        for (code, extra) in [
            ("i32.const 65540 drop", ""),
            ("", "(global i32 (i32.const 65536))"),
            ("", r#"(data (i32.const 1024) "\04\00\01\00")"#),
        ] {
            let wasm = module(OTHER_MARKER, &data, code, extra);
            assert!(
                drop_data_copies(&wasm, NAMES).unwrap().is_none(),
                "{code}{extra}: a constant points into the copy"
            );
        }
        // Constants elsewhere (the stack pointer's 65536 included) do not keep it when
        // the copy starts past them.
        let data = format!("padding{MANIFEST}");
        let wasm = module(OTHER_MARKER, &data, "i32.const 65536 drop", "");
        let (out, removed) = drop_data_copies(&wasm, NAMES).unwrap().expect("dropped");
        validate(&out);
        assert_eq!(removed, MANIFEST.len());
        assert_eq!(&image(&out)[65536..65536 + 7], b"padding");
    }

    #[test]
    fn a_copy_found_twice_or_not_whole_stays() {
        let wasm = module(SDK_MARKER, &format!("{MANIFEST}{MANIFEST}"), "", "");
        let (out, removed) = drop_data_copies(&wasm, NAMES)
            .unwrap()
            .map_or((wasm.clone(), 0), |x| x);
        assert_eq!(removed, 0, "ambiguous: which one would code read?");
        assert_eq!(out, wasm);
        let half = &MANIFEST[..MANIFEST.len() / 2];
        let wasm = module(SDK_MARKER, half, "", "");
        assert!(drop_data_copies(&wasm, NAMES).unwrap().is_none());
    }

    #[test]
    fn segment_indices_and_the_data_count_stay_right_with_passive_segments() {
        // `memory.init 1` names the passive segment after the active one that is cut
        // in two: it must still name it, and the data count must count the new piece.
        let data = format!("before{MANIFEST}after");
        let wasm = module(
            SDK_MARKER,
            &data,
            "i32.const 0 i32.const 0 i32.const 4 memory.init 1",
            r#"(data "pass")"#,
        );
        let has_count = |m: &[u8]| {
            Parser::new(0).parse_all(m).find_map(|p| match p.unwrap() {
                Payload::DataCountSection { count, .. } => Some(count),
                _ => None,
            })
        };
        assert_eq!(has_count(&wasm), Some(2), "the module needs a data count");
        let (out, _) = drop_data_copies(&wasm, NAMES).unwrap().expect("dropped");
        validate(&out);
        assert_eq!(has_count(&out), Some(3));
        let segments: Vec<(bool, Vec<u8>)> = Parser::new(0)
            .parse_all(&out)
            .filter_map(|p| match p.unwrap() {
                Payload::DataSection(r) => Some(r),
                _ => None,
            })
            .flatten()
            .map(|d| {
                let d = d.unwrap();
                (matches!(d.kind, DataKind::Passive), d.data.to_vec())
            })
            .collect();
        assert_eq!(
            segments,
            [
                (false, b"before".to_vec()),
                (true, b"pass".to_vec()),
                (false, b"after".to_vec())
            ]
        );
    }
}
