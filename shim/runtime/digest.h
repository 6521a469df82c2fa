/* digest.h - a 64-bit digest of what a statement answered, for the
 * transaction replay: the recording and the replay compute it the same
 * way, and only the two digests are compared.
 *
 * FNV-1a over a length-prefixed encoding (so that "ab","c" and "a","bc"
 * differ, and NULL differs from the empty string), finished with a
 * 64-bit mixer. Not cryptographic, and it need not be: the two inputs are
 * the server's own answers to the same statements, not an adversary's; two
 * different answers pass as one with a probability of about 2^-64. Pure,
 * inline, allocation-free.
 */
#ifndef GONESHIM_DIGEST_H
#define GONESHIM_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define DIGEST_INIT UINT64_C(0xcbf29ce484222325)

static inline uint64_t digest_bytes(uint64_t d, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        d ^= p[i];
        d *= UINT64_C(0x100000001b3);
    }
    return d;
}

static inline uint64_t digest_u64(uint64_t d, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    return digest_bytes(d, b, sizeof b);
}

/* One value of a row or of metadata: NULL (data == NULL) is not "". */
static inline uint64_t digest_field(uint64_t d, const void *data, size_t len)
{
    d = digest_u64(d, data == NULL ? 0 : (uint64_t)len + 1);
    return data == NULL ? d : digest_bytes(d, data, len);
}

/* One column of a result set's description, as every adapter has it: what
 * the application can read of it with its library's field calls. */
struct column_description {
    const char *name, *org_name, *table, *org_table, *db;
    size_t name_len, org_name_len, table_len, org_table_len, db_len;
    uint64_t type, flags, decimals, charsetnr, length;
};

static inline uint64_t digest_column(uint64_t d, const struct column_description *c)
{
    d = digest_field(d, c->name, c->name_len);
    d = digest_field(d, c->org_name, c->org_name_len);
    d = digest_field(d, c->table, c->table_len);
    d = digest_field(d, c->org_table, c->org_table_len);
    d = digest_field(d, c->db, c->db_len);
    d = digest_u64(d, c->type);
    d = digest_u64(d, c->flags);
    d = digest_u64(d, c->decimals);
    d = digest_u64(d, c->charsetnr);
    return digest_u64(d, c->length);
}

/* The final value: every input bit reaches every output bit. */
static inline uint64_t digest_finish(uint64_t d)
{
    d ^= d >> 33;
    d *= UINT64_C(0xff51afd7ed558ccd);
    d ^= d >> 33;
    d *= UINT64_C(0xc4ceb9fe1a85ec53);
    d ^= d >> 33;
    return d;
}

#endif
