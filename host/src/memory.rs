//! Bounds-checked access to a guest's linear memory.
//!
//! Every pointer and length a plugin hands the host is untrusted. The checks here use
//! `u64` arithmetic so that `ptr + len` cannot wrap, and an out-of-bounds range becomes
//! a trap of that delivery (a [`GuestTrap`]) naming the host function and the range.

use wasmtime::{AsContext, AsContextMut, Memory};

use crate::state::GuestTrap;

/// Checks that `ptr..ptr+len` lies inside `memory_len` bytes and returns it as a
/// `usize` range.
pub(crate) fn range(
    function: &'static str,
    what: &'static str,
    ptr: u32,
    len: u32,
    memory_len: usize,
) -> Result<std::ops::Range<usize>, GuestTrap> {
    let end = u64::from(ptr) + u64::from(len);
    if end > memory_len as u64 {
        return Err(GuestTrap::out_of_bounds(
            function, what, ptr, len, memory_len,
        ));
    }
    // Both fit in usize: they are at most `memory_len`.
    Ok(ptr as usize..end as usize)
}

/// Copies at most `max` bytes of the checked range `ptr..ptr+len`: the whole range is
/// bounds-checked, only its head is copied.
pub(crate) fn read_prefix(
    store: impl AsContext,
    memory: Memory,
    function: &'static str,
    ptr: u32,
    len: u32,
    max: usize,
) -> Result<Vec<u8>, GuestTrap> {
    let data = memory.data(&store);
    let r = range(function, "buffer", ptr, len, data.len())?;
    let end = r.start + r.len().min(max);
    Ok(data
        .get(r.start..end)
        .map(<[u8]>::to_vec)
        .unwrap_or_default())
}

/// Writes `bytes` at `ptr`, after checking bounds.
pub(crate) fn write(
    mut store: impl AsContextMut,
    memory: Memory,
    function: &'static str,
    what: &'static str,
    ptr: u32,
    bytes: &[u8],
) -> Result<(), GuestTrap> {
    let data = memory.data_mut(&mut store);
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    let r = range(function, what, ptr, len, data.len())?;
    if let Some(dst) = data.get_mut(r) {
        dst.copy_from_slice(bytes);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_do_not_wrap() {
        assert_eq!(range("ohd_log", "buffer", 0, 16, 16).ok(), Some(0..16));
        assert_eq!(range("ohd_log", "buffer", 16, 0, 16).ok(), Some(16..16));
        let err = range("ohd_log", "buffer", 0xffff_fff0, 64, 1_114_112).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ohd_log: buffer 0xfffffff0+64 is outside linear memory (1114112 bytes)"
        );
        assert!(range("ohd_log", "buffer", u32::MAX, u32::MAX, usize::MAX >> 1).is_ok());
        assert!(range("ohd_log", "buffer", 1, u32::MAX, u32::MAX as usize).is_err());
    }
}
