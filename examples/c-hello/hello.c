/*
 * c-hello: an Open Help Desk plugin in plain C, written against docs/ABI.md alone.
 *
 * On `ticket.created` it logs the ticket id and adds an internal note saying hello.
 * It shows what a non-Rust plugin needs: the manifest in an `ohd_manifest` custom
 * section, an `on_event` export, an allocator export (`malloc`/`free` here, the pair
 * C and TinyGo toolchains provide), and imports from the `ohd` module only.
 *
 * Build: see build.sh (clang --target=wasm32-unknown-unknown, no libc).
 */

#include <stddef.h>
#include <stdint.h>

/* ---- The manifest: one JSON object in the `ohd_manifest` custom section. ----
 * An assembler section named `.custom_section.NAME` becomes the wasm custom section
 * NAME. (A C `__attribute__((section(...)))` does not: clang 14 makes it a data
 * segment in linear memory.) `.incbin` copies manifest.json byte for byte, so the
 * section holds exactly the JSON object, with no trailing NUL. build.sh compiles from
 * this folder so that the relative path resolves. */
__asm__(".section .custom_section.ohd_manifest,\"\",@\n"
        ".incbin \"manifest.json\"\n"
        ".text\n");

/* ---- Host functions (module `ohd`). ---- */

#define OHD_IMPORT(name) __attribute__((import_module("ohd"), import_name(name)))

OHD_IMPORT("ohd_log") void ohd_log(const char *ptr, uint32_t len, uint32_t level);
OHD_IMPORT("ohd_add_reply") uint32_t ohd_add_reply(const char *ptr, uint32_t len);

enum { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };

/* ---- Allocator exports: a bump allocator over a static arena. ----
 * A fresh instance serves each delivery, so memory is never reused across events and
 * a bump allocator that never frees is enough. */

static unsigned char arena[64 * 1024];
static size_t arena_top;

__attribute__((export_name("malloc"))) void *malloc(size_t size) {
    size_t start = (arena_top + 7) & ~(size_t)7;
    if (size > sizeof arena || start > sizeof arena - size) {
        return NULL; /* the host fails the delivery: "allocation failed" */
    }
    arena_top = start + size;
    return &arena[start];
}

__attribute__((export_name("free"))) void free(void *ptr) { (void)ptr; }

/* ---- A little string building, without libc. ---- */

typedef struct {
    char data[1024];
    size_t len;
    int overflow;
} buf_t;

static void put(buf_t *b, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (b->len == sizeof b->data) {
            b->overflow = 1;
            return;
        }
        b->data[b->len++] = s[i];
    }
}

static size_t cstrlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

static void puts_(buf_t *b, const char *s) { put(b, s, cstrlen(s)); }

static void log_str(uint32_t level, const char *s) { ohd_log(s, (uint32_t)cstrlen(s), level); }

/* Returns the offset just past the first `"key"` in json, or 0. */
static size_t find_key(const char *json, size_t len, const char *key) {
    size_t klen = cstrlen(key);
    for (size_t i = 0; i + klen + 2 <= len; i++) {
        if (json[i] != '"' || json[i + 1 + klen] != '"') continue;
        size_t j = 0;
        while (j < klen && json[i + 1 + j] == key[j]) j++;
        if (j == klen) return i + 2 + klen;
    }
    return 0;
}

/* Finds `"key":"` after `from` and returns the string value's bounds. Ticket ids are
 * plain ASCII in practice; escaped quotes end the match early, which only shortens
 * the id we print. */
static int find_string(const char *json, size_t len, size_t from, const char *key,
                       size_t *start, size_t *end) {
    size_t klen = cstrlen(key);
    for (size_t i = from; i + klen + 4 <= len; i++) {
        if (json[i] != '"') continue;
        size_t j = 0;
        while (j < klen && json[i + 1 + j] == key[j]) j++;
        if (j != klen || json[i + 1 + klen] != '"') continue;
        size_t k = i + 2 + klen;
        while (k < len && (json[k] == ' ' || json[k] == ':')) k++;
        if (k >= len || json[k] != '"') return 0;
        size_t v = ++k;
        while (k < len && json[k] != '"') k++;
        if (k >= len) return 0;
        *start = v;
        *end = k;
        return 1;
    }
    return 0;
}

__attribute__((export_name("on_event"))) void on_event(const char *payload, uint32_t len) {
    /* The ticket object follows the "ticket" key; its "id" is the first one after it. */
    size_t after = find_key(payload, len, "ticket");
    size_t s, e;
    if (after == 0 || !find_string(payload, len, after, "id", &s, &e)) {
        log_str(LOG_ERROR, "c-hello: the event has no ticket.id");
        __builtin_trap(); /* a failed delivery, counted by the host */
    }

    /* Only len and overflow need zeroing: `= {0}` would make clang call memset,
     * which a module without libc does not have. */
    buf_t line;
    line.len = 0;
    line.overflow = 0;
    puts_(&line, "c-hello: new ticket ");
    put(&line, payload + s, e - s);
    ohd_log(line.data, (uint32_t)line.len, LOG_INFO);

    buf_t reply;
    reply.len = 0;
    reply.overflow = 0;
    puts_(&reply, "{\"ticket_id\":\"");
    put(&reply, payload + s, e - s);
    puts_(&reply, "\",\"body\":\"Hello from a C plugin!\",\"is_internal\":true}");
    if (reply.overflow) {
        log_str(LOG_ERROR, "c-hello: ticket id too long");
        return;
    }
    uint32_t status = ohd_add_reply(reply.data, (uint32_t)reply.len);
    if (status != 0) {
        log_str(LOG_WARN, "c-hello: ohd_add_reply failed");
    }
}
