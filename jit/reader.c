/* Out-of-line parts of the bounded reader: names and UTF-8 checking. */
#include "jit/reader.h"

bool sbx_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t len;
        uint32_t min;
        if ((c & 0xe0) == 0xc0) {
            cp = c & 0x1f, len = 2, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            cp = c & 0x0f, len = 3, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            cp = c & 0x07, len = 4, min = 0x10000;
        } else {
            return false;
        }
        if (n - i < len) return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += len;
    }
    return true;
}

int rd_name(struct sbx_reader *r, const char **ptr, uint32_t *len)
{
    size_t at = rd_offset(r);
    const uint8_t *b;
    if (rd_len(r, len) || rd_bytes(r, *len, &b)) return -1;
    if (!sbx_utf8_valid(b, *len)) return sbx_fail(r->err, at, "malformed UTF-8 encoding");
    *ptr = (const char *)b;
    return 0;
}
