/* cordon-testcam — a static test card with detail at many scales, so that an
 * SSIM comparison notices blur, blocking and colour loss, yet the same on every
 * run (no videotestsrc "snow"). Pure C. */
#include "still.h"

#include <math.h>
#include <stddef.h>

/* BT.601 video-range Y, Cb, Cr of the 75% bars: white, yellow, cyan, green,
 * magenta, red, blue. */
static const uint8_t bars[7][3] = {
  { 180, 128, 128 }, { 162, 44, 142 }, { 131, 156, 44 }, { 112, 72, 58 },
  { 84, 184, 198 }, { 65, 100, 212 }, { 35, 212, 114 },
};

static uint8_t
clamp_luma (int v)
{
  return (uint8_t) (v < 16 ? 16 : v > 235 ? 235 : v);
}

/* Deterministic hash of a lattice point, 0..255. */
static int
lattice (int x, int y)
{
  uint32_t h = (uint32_t) x * 374761393u + (uint32_t) y * 668265263u;
  h = (h ^ (h >> 13)) * 1274126177u;
  return (int) ((h ^ (h >> 16)) & 0xff);
}

/* Value noise: random lattice every `cell` pixels, bilinear in between. */
static int
texture (int x, int y, int cell)
{
  int gx = x / cell, gy = y / cell;
  int fx = x % cell, fy = y % cell;
  int a = lattice (gx, gy), b = lattice (gx + 1, gy);
  int c = lattice (gx, gy + 1), d = lattice (gx + 1, gy + 1);
  int top = a * (cell - fx) + b * fx, bottom = c * (cell - fx) + d * fx;
  return (top * (cell - fy) + bottom * fy) / (cell * cell);
}

static void
draw_luma (uint8_t *row, int y, int width, int height)
{
  int third = height / 3;

  for (int x = 0; x < width; x++) {
    int v;
    if (y < third) {
      v = bars[(int) ((int64_t) x * 7 / width)][0];
    } else if (y < 2 * third) {
      int half = width / 2;
      if (x < half) {
        /* Zone plate centred in the left half; its frequency grows to a
         * quarter cycle per pixel in the corners, short of where 4:2:0 or
         * a 2x downscale alias. */
        double cx = x - half / 2.0, cy = y - (third + third / 2.0);
        double r = hypot (half / 2.0, third / 2.0);
        double phase = M_PI * 0.25 * (cx * cx + cy * cy) / r;
        v = 126 + (int) lrint (90.0 * cos (phase));
      } else {
        /* Four checker boards: 2, 4, 8 and 16 pixel squares. */
        int column = (x - half) * 4 / (width - half);
        int size = 2 << column;
        v = ((x / size + y / size) & 1) ? 200 : 50;
      }
    } else {
      int part = (int) ((int64_t) x * 3 / width);
      if (part == 0)
        v = 16 + (int) ((int64_t) x * 3 * 219 / width);            /* ramp */
      else if (part == 1)
        v = 16 + ((int) ((int64_t) (x - width / 3) * 24 / width)) * 219 / 7;  /* 8 steps */
      else
        v = 40 + texture (x, y, 6) * 3 / 4 + (texture (x, y, 23) - 128) / 3;
    }
    row[x] = clamp_luma (v);
  }
}

static void
draw_chroma (uint8_t *u, uint8_t *v, int cy, int cwidth, int height)
{
  int y = cy * 2, third = height / 3;

  for (int cx = 0; cx < cwidth; cx++) {
    int x = cx * 2, width = cwidth * 2;
    uint8_t cb = 128, cr = 128;
    if (y < third) {
      int bar = (int) ((int64_t) x * 7 / width);
      cb = bars[bar][1];
      cr = bars[bar][2];
    } else if (y >= 2 * third && x >= 2 * width / 3) {
      /* A colour texture under the luma texture. */
      cb = (uint8_t) (64 + texture (x, y, 17) / 2);
      cr = (uint8_t) (64 + texture (x + 1000, y, 13) / 2);
    } else if (y >= 2 * third && x < width / 3) {
      /* A hue sweep under the luma ramp. */
      double a = 2.0 * M_PI * x * 3 / width;
      cb = (uint8_t) (128 + (int) lrint (80.0 * cos (a)));
      cr = (uint8_t) (128 + (int) lrint (80.0 * sin (a)));
    }
    u[cx] = cb;
    v[cx] = cr;
  }
}

void
cordon_testcam_still_draw (uint8_t *y, int y_stride, uint8_t *u, int u_stride,
                           uint8_t *v, int v_stride, int width, int height)
{
  for (int row = 0; row < height; row++)
    draw_luma (y + (size_t) row * y_stride, row, width, height);
  for (int row = 0; row < height / 2; row++)
    draw_chroma (u + (size_t) row * u_stride, v + (size_t) row * v_stride, row, width / 2, height);
}
