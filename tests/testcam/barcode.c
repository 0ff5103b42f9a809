/* cordon-testcam — timestamp bar code in the luma plane. Plain C, no GLib, so
 * that any benchmark or tool can link it. */
#include "barcode.h"

#include <stddef.h>

#define BLACK 16   /* video-range luma: survives limited-range conversions */
#define WHITE 235
#define CRC_BITS 8
#define FIRST_VALUE_CELL 4
#define FIRST_CRC_CELL (FIRST_VALUE_CELL + CORDON_BARCODE_VALUE_BITS)
#define FIRST_END_CELL (FIRST_CRC_CELL + CRC_BITS)

static const int start_pattern[4] = { 1, 0, 1, 0 };
static const int end_pattern[4] = { 0, 1, 0, 1 };

/* CRC-8, polynomial x^8 + x^2 + x + 1, over the eight value bytes. */
static uint8_t
crc8 (uint64_t value)
{
  uint8_t crc = 0;

  for (int i = 7; i >= 0; i--) {
    crc ^= (uint8_t) (value >> (8 * i));
    for (int b = 0; b < 8; b++)
      crc = (crc & 0x80) ? (uint8_t) ((crc << 1) ^ 0x07) : (uint8_t) (crc << 1);
  }
  return crc;
}

static void
cells_for (uint64_t value, int cells[CORDON_BARCODE_CELLS])
{
  uint8_t crc = crc8 (value);

  for (int i = 0; i < 4; i++) {
    cells[i] = start_pattern[i];
    cells[FIRST_END_CELL + i] = end_pattern[i];
  }
  for (int i = 0; i < CORDON_BARCODE_VALUE_BITS; i++)
    cells[FIRST_VALUE_CELL + i] = (value >> (CORDON_BARCODE_VALUE_BITS - 1 - i)) & 1;
  for (int i = 0; i < CRC_BITS; i++)
    cells[FIRST_CRC_CELL + i] = (crc >> (CRC_BITS - 1 - i)) & 1;
}

int
cordon_barcode_strip_height (int height)
{
  int h = height / 16;

  if (h < 16)
    h = 16;
  if (h > height)
    h = height;
  return h;
}

void
cordon_barcode_encode (uint8_t *luma, int width, int height, int stride, uint64_t value)
{
  int cells[CORDON_BARCODE_CELLS];
  int rows = cordon_barcode_strip_height (height);

  if (width < CORDON_BARCODE_CELLS || height <= 0)
    return;
  cells_for (value, cells);
  for (int y = 0; y < rows; y++) {
    uint8_t *row = luma + (size_t) y * stride;
    for (int x = 0; x < width; x++) {
      /* Cell i covers [i*W/80, (i+1)*W/80), so scaling keeps cell edges. */
      int cell = (int) ((int64_t) x * CORDON_BARCODE_CELLS / width);
      row[x] = cells[cell] ? WHITE : BLACK;
    }
  }
}

bool
cordon_barcode_decode (const uint8_t *luma, int width, int height, int stride, uint64_t *value)
{
  double level[CORDON_BARCODE_CELLS];
  /* The strip is at least 1/16 of the height at any scale; read the middle
   * half of that band, away from the edge the encoder blurs. */
  int band = height / 16;
  int y0 = band / 4, y1 = (band * 3) / 4;
  double white = 0, black = 0, threshold;
  int cells[CORDON_BARCODE_CELLS];
  uint64_t v = 0;
  uint8_t crc = 0;

  if (width < CORDON_BARCODE_CELLS || height <= 0)
    return false;
  if (y1 <= y0)
    y1 = y0 + 1;

  for (int i = 0; i < CORDON_BARCODE_CELLS; i++) {
    /* The middle half of each cell, away from ringing at its edges. */
    int64_t x0 = (int64_t) i * width / CORDON_BARCODE_CELLS;
    int64_t x1 = (int64_t) (i + 1) * width / CORDON_BARCODE_CELLS;
    int64_t w = x1 - x0;
    int64_t a = x0 + w / 4, b = x1 - w / 4;
    uint64_t sum = 0, n = 0;

    if (b <= a)
      b = a + 1;
    for (int y = y0; y < y1; y++)
      for (int64_t x = a; x < b; x++) {
        sum += luma[(size_t) y * stride + (size_t) x];
        n++;
      }
    level[i] = (double) sum / (double) n;
  }

  for (int i = 0; i < 4; i++) {
    if (start_pattern[i])
      white += level[i];
    else
      black += level[i];
    if (end_pattern[i])
      white += level[FIRST_END_CELL + i];
    else
      black += level[FIRST_END_CELL + i];
  }
  white /= 4;
  black /= 4;
  if (white - black < 40)
    return false;
  threshold = (white + black) / 2;

  for (int i = 0; i < CORDON_BARCODE_CELLS; i++)
    cells[i] = level[i] > threshold;
  for (int i = 0; i < 4; i++)
    if (cells[i] != start_pattern[i] || cells[FIRST_END_CELL + i] != end_pattern[i])
      return false;
  for (int i = 0; i < CORDON_BARCODE_VALUE_BITS; i++)
    v = (v << 1) | (uint64_t) cells[FIRST_VALUE_CELL + i];
  for (int i = 0; i < CRC_BITS; i++)
    crc = (uint8_t) ((crc << 1) | cells[FIRST_CRC_CELL + i]);
  if (crc != crc8 (v))
    return false;
  *value = v;
  return true;
}
