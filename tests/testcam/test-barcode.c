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
  0, 1, G_GUINT64_CONSTANT (0xffffffffffff), G_GUINT64_CONSTANT (0xaaaaaaaaaaaa),
  G_GUINT64_CONSTANT (1767225600123),  /* a CLOCK_REALTIME in ms */
};

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

static void
test_value_is_48_bits (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (2);
  g_autoptr (Plane) p = picture_new (640, 360, rand);

  cordon_barcode_encode (p->data, p->width, p->height, p->stride,
                         G_GUINT64_CONSTANT (0xffff000000000042));
  assert_decodes (p, 0x42);
}

static void
test_survives_downscale_and_noise (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (3);
  const int sizes[][2] = { { 1280, 720 }, { 1920, 1080 }, { 704, 576 }, { 640, 360 } };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (int factor = 1; factor <= 3; factor++) {
      g_autoptr (Plane) p = picture_new (sizes[s][0], sizes[s][1], rand);
      guint64 value = values[4] + s * 7 + (guint64) factor;
      cordon_barcode_encode (p->data, p->width, p->height, p->stride, value);
      g_autoptr (Plane) small = downscale (p, factor);
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

  cordon_barcode_encode (p->data, p->width, p->height, p->stride, values[4]);
  /* Flip one value cell (cell 10 covers x 200..219 at 1280 wide). */
  for (int y = 0; y < strip; y++)
    for (int x = 200; x < 220; x++)
      p->data[y * p->stride + x] = (guint8) (251 - p->data[y * p->stride + x]);
  g_assert_false (cordon_barcode_decode (p->data, p->width, p->height, p->stride, &got));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/barcode/round-trip", test_round_trip);
  g_test_add_func ("/barcode/value-is-48-bits", test_value_is_48_bits);
  g_test_add_func ("/barcode/survives-downscale-and-noise", test_survives_downscale_and_noise);
  g_test_add_func ("/barcode/rejects-picture-without-code", test_rejects_picture_without_code);
  g_test_add_func ("/barcode/rejects-damaged-code", test_rejects_damaged_code);
  return g_test_run ();
}
