/* cordon-testcam — a 64-bit value drawn as black/white blocks in the top strip
 * of a luma plane, readable again after re-encoding and downscaling. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* 80 cells across the full width: start pattern 1010, 64 value bits (MSB
 * first), CRC-8 of the value, end pattern 0101. A 1280-pixel-wide picture
 * gets 16-pixel cells; 1920 gets 24. */
#define CORDON_BARCODE_CELLS 80
#define CORDON_BARCODE_VALUE_BITS 64

/* Height in rows of the strip cordon_barcode_encode() draws into a picture
 * `height` rows high: at least 16 rows and at least 1/16 of the picture. */
int cordon_barcode_strip_height (int height);

/* Draws `value` into the top strip of the 8-bit luma plane `luma` (width ×
 * height, `stride` bytes per row). Only luma is touched; a caller with chroma
 * planes should make the strip grey there. Pictures narrower than
 * CORDON_BARCODE_CELLS pixels are left alone. */
void cordon_barcode_encode (uint8_t *luma, int width, int height, int stride, uint64_t value);

/* Reads a value drawn by cordon_barcode_encode(), possibly from a scaled,
 * re-encoded and noisy copy of the picture. Returns true and sets *value
 * only when the start and end patterns and the checksum match. */
bool cordon_barcode_decode (const uint8_t *luma, int width, int height, int stride, uint64_t *value);
