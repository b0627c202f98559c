/*
 * ltb_encode_pbc.h: the oracle of ltb_encode.h: the same reports built as
 * protobuf-c structs and packed whole by protobuf-c, for the tests and
 * the fuzz target that compare the two encoders' bytes. Not for the
 * tracer's use: it allocates per span and sizes the tree twice.
 */
#ifndef LTB_ENCODE_PBC_H
#define LTB_ENCODE_PBC_H

#include <stddef.h>
#include <stdint.h>

#include "client/ltb_encode.h"

/* The report of n spans for c, packed by protobuf-c, in a buffer the
 * caller frees; its length in *len. NULL when out of memory. */
uint8_t *ltb_enc_pbc_report(const struct ltb_enc_config *c,
    const struct ltb_enc_span *spans, size_t n, size_t *len);

#endif
