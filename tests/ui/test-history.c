/* Unit tests of the operator page's bounded history (proxy/history.c). */
#include "proxy/history.h"

#define S G_USEC_PER_SEC

static void
test_rates (void)
{
  g_autoptr (CordonHistory) h = cordon_history_new (10);
  g_autoptr (GString) out = g_string_new (NULL);

  cordon_history_record (h, "lobby", 100 * S, 1000, 50000, 3);
  g_assert_cmpuint (cordon_history_length (h, "lobby"), ==, 0); /* a baseline only */
  cordon_history_record (h, "lobby", 110 * S, 1250, 50000 + 2500000 / 8 * 10, 10);
  g_assert_cmpuint (cordon_history_length (h, "lobby"), ==, 1);
  cordon_history_to_json (h, 115 * S, out);
  g_assert_cmpstr (out->str, ==, "{\"lobby\":[{\"age_seconds\":5.0,\"fps\":25.00,\"kbps\":2500.0,\"blocked\":7}]}");
}

static void
test_bounded (void)
{
  g_autoptr (CordonHistory) h = cordon_history_new (6);
  g_autoptr (GString) out = g_string_new (NULL);

  for (guint i = 0; i <= 100; i++)
    cordon_history_record (h, "gate", i * 10 * S, i * 100, i * 1000, i);
  g_assert_cmpuint (cordon_history_length (h, "gate"), ==, 6);
  cordon_history_to_json (h, 1000 * S, out);
  /* Oldest kept first: the six intervals ending at 950 … 1000 s. */
  g_assert_true (g_str_has_prefix (out->str, "{\"gate\":[{\"age_seconds\":50.0,\"fps\":10.00"));
  g_assert_true (g_str_has_suffix (out->str, "{\"age_seconds\":0.0,\"fps\":10.00,\"kbps\":0.8,\"blocked\":1}]}"));
}

static void
test_counter_reset (void)
{
  g_autoptr (CordonHistory) h = cordon_history_new (10);

  cordon_history_record (h, "lobby", 0, 5000, 900000, 0);
  cordon_history_record (h, "lobby", 10 * S, 5100, 910000, 0);
  /* The pipeline was rebuilt: counters start again near zero. */
  cordon_history_record (h, "lobby", 20 * S, 40, 3000, 0);
  g_assert_cmpuint (cordon_history_length (h, "lobby"), ==, 1);
  cordon_history_record (h, "lobby", 30 * S, 140, 13000, 0);
  g_assert_cmpuint (cordon_history_length (h, "lobby"), ==, 2);
  /* Two looks at the same instant give no sample either. */
  cordon_history_record (h, "lobby", 30 * S, 150, 14000, 0);
  g_assert_cmpuint (cordon_history_length (h, "lobby"), ==, 2);
}

static void
test_retain (void)
{
  g_autoptr (CordonHistory) h = cordon_history_new (10);
  g_autoptr (GString) out = g_string_new (NULL);
  const char *const keep[] = { "b", NULL };

  for (int i = 0; i < 3; i++) {
    cordon_history_record (h, "b", i * S, i, i, 0);
    cordon_history_record (h, "a", i * S, i, i, 0);
  }
  cordon_history_to_json (h, 2 * S, out);
  g_assert_true (g_str_has_prefix (out->str, "{\"a\":[")); /* sorted by name */
  cordon_history_retain (h, keep);
  g_assert_cmpuint (cordon_history_length (h, "a"), ==, 0);
  g_assert_cmpuint (cordon_history_length (h, "b"), ==, 2);
  g_string_truncate (out, 0);
  cordon_history_to_json (h, 2 * S, out);
  g_assert_true (g_str_has_prefix (out->str, "{\"b\":[{"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/history/rates", test_rates);
  g_test_add_func ("/history/bounded", test_bounded);
  g_test_add_func ("/history/counter-reset", test_counter_reset);
  g_test_add_func ("/history/retain", test_retain);
  return g_test_run ();
}
