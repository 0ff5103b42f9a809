/* cordon-testcam — bar code round trips through scaling and noise. */
#include "barcode.h"

#include <glib.h>
#include <string.h>

typedef struct {
  int width, height, stride;
  guint8 *data;
} Plane;

static Plane *
plane_new (int width, int height)
{
  Plane *p = g_new0 (Plane, 1);
  p->width = width;
  p->height = height;
  p->stride = width + 32;  /* padding, as real video frames have */
  p->data = g_malloc0 ((gsize) p->stride * height);
  return p;
}

static void
plane_free (Plane *p)
{
  g_free (p->data);
  g_free (p);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Plane, plane_free)

/* A busy picture under the strip, so the decoder has to ignore it. */
static Plane *
picture_new (int width, int height, GRand *rand)
{
  Plane *p = plane_new (width, height);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      p->data[y * p->stride + x] = (guint8) g_rand_int_range (rand, 0, 256);
  return p;
}

/* Box filter, the crudest downscaler a recorder might use. */
static Plane *
downscale (const Plane *src, int factor)
{
  Plane *dst = plane_new (src->width / factor, src->height / factor);
  for (int y = 0; y < dst->height; y++)
    for (int x = 0; x < dst->width; x++) {
      guint sum = 0;
      for (int dy = 0; dy < factor; dy++)
        for (int dx = 0; dx < factor; dx++)
          sum += src->data[(y * factor + dy) * src->stride + x * factor + dx];
      dst->data[y * dst->stride + x] = (guint8) (sum / (guint) (factor * factor));
    }
  return dst;
}

static void
add_noise (Plane *p, int amplitude, GRand *rand)
{
  for (int y = 0; y < p->height; y++)
    for (int x = 0; x < p->width; x++) {
      int v = p->data[y * p->stride + x] + g_rand_int_range (rand, -amplitude, amplitude + 1);
      p->data[y * p->stride + x] = (guint8) CLAMP (v, 0, 255);
    }
}

static void
assert_decodes (const Plane *p, guint64 expected)
{
  guint64 got = 0;
  g_assert_true (cordon_barcode_decode (p->data, p->width, p->height, p->stride, &got));
  g_assert_cmpuint (got, ==, expected);
}

static const guint64 values[] = {
  0, 1, G_MAXUINT64, G_GUINT64_CONSTANT (0xaaaaaaaaaaaaaaaa), G_GUINT64_CONSTANT (0x8000000000000001),
  G_GUINT64_CONSTANT (1767225600123),  /* a CLOCK_REALTIME in ms */
};
#define NOW_MS G_GUINT64_CONSTANT (1767225600123)

static void
test_round_trip (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (1);

  for (guint i = 0; i < G_N_ELEMENTS (values); i++) {
    g_autoptr (Plane) p = picture_new (1280, 720, rand);
    cordon_barcode_encode (p->data, p->width, p->height, p->stride, values[i]);
    assert_decodes (p, values[i]);
  }
}

/* All 64 bits travel, the top ones included. */
static void
test_keeps_all_64_bits (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (2);

  for (int bit = 0; bit < 64; bit++) {
    g_autoptr (Plane) p = picture_new (640, 360, rand);
    guint64 value = G_GUINT64_CONSTANT (1) << bit;
    cordon_barcode_encode (p->data, p->width, p->height, p->stride, value);
    assert_decodes (p, value);
  }
}

/* Down to 4 pixels a cell: 1080p and 720p cameras seen at 640x360 or less. */
static void
test_survives_downscale_and_noise (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (3);
  const struct { int width, height, factor; } cases[] = {
    { 1920, 1080, 1 }, { 1920, 1080, 2 }, { 1920, 1080, 3 }, { 1280, 720, 1 }, { 1280, 720, 2 },
    { 704, 576, 1 }, { 704, 576, 2 }, { 640, 360, 1 }, { 640, 360, 2 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (Plane) p = picture_new (cases[i].width, cases[i].height, rand);
    guint64 value = NOW_MS + i * 7;
    g_test_message ("%dx%d / %d", cases[i].width, cases[i].height, cases[i].factor);
    cordon_barcode_encode (p->data, p->width, p->height, p->stride, value);
    g_autoptr (Plane) small = downscale (p, cases[i].factor);
    add_noise (small, 30, rand);
    assert_decodes (small, value);
  }
}

static void
test_rejects_picture_without_code (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (4);
  g_autoptr (Plane) noise = picture_new (1280, 720, rand);
  g_autoptr (Plane) grey = plane_new (1280, 720);
  guint64 got = 0;

  memset (grey->data, 128, (gsize) grey->stride * grey->height);
  g_assert_false (cordon_barcode_decode (noise->data, noise->width, noise->height, noise->stride, &got));
  g_assert_false (cordon_barcode_decode (grey->data, grey->width, grey->height, grey->stride, &got));
}

static void
test_rejects_damaged_code (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (5);
  g_autoptr (Plane) p = picture_new (1280, 720, rand);
  int strip = cordon_barcode_strip_height (p->height);
  guint64 got = 0;

  cordon_barcode_encode (p->data, p->width, p->height, p->stride, NOW_MS);
  /* Flip one value cell (cell 10 covers x 160..175 at 1280 wide). */
  for (int y = 0; y < strip; y++)
    for (int x = 160; x < 176; x++)
      p->data[y * p->stride + x] = (guint8) (251 - p->data[y * p->stride + x]);
  g_assert_false (cordon_barcode_decode (p->data, p->width, p->height, p->stride, &got));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/barcode/round-trip", test_round_trip);
  g_test_add_func ("/barcode/keeps-all-64-bits", test_keeps_all_64_bits);
  g_test_add_func ("/barcode/survives-downscale-and-noise", test_survives_downscale_and_noise);
  g_test_add_func ("/barcode/rejects-picture-without-code", test_rejects_picture_without_code);
  g_test_add_func ("/barcode/rejects-damaged-code", test_rejects_damaged_code);
  return g_test_run ();
}
