/* libFuzzer target: the daemon's check of ingest-worker messages
 * (pipeline/ring.c). The input is a stream of messages: two length bytes
 * then the message, so one run walks the state (held slots, sequence, time)
 * through many messages; every accepted picture's slot is released half the
 * time, as the daemon does after its copy. */
#include <stdint.h>
#include <string.h>

#include "ring.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  CordonHandover h;
  gint64 now = G_GINT64_CONSTANT (5000000000);
  cordon_handover_init (&h, CORDON_HANDOVER_SLOTS, 640 * 360 * 3 / 2);

  while (size >= 2) {
    gsize len = (gsize) data[0] | ((gsize) data[1] << 8);
    data += 2;
    size -= 2;
    len = MIN (len, size);
    /* A private copy: the check must not read past LEN. */
    guint8 *msg = g_memdup2 (data, len);
    CordonHandoverEvent ev;
    const char *why = NULL;
    if (cordon_handover_check (&h, msg, len, now, &ev, &why)) {
      g_assert (why == NULL);
      g_assert (strlen (ev.text) < CORDON_HANDOVER_TEXT);
      if (ev.type == CORDON_MSG_PICTURE) {
        g_assert (ev.slot < h.slots && h.held[ev.slot]);
        if (ev.seq & 1)
          g_assert (cordon_handover_release (&h, ev.slot));
      }
      if (ev.type == CORDON_MSG_AUDIO)
        g_assert (ev.audio_len >= 1 && ev.audio_len <= CORDON_HANDOVER_AUDIO_MAX);
    } else {
      g_assert (why != NULL);
    }
    g_free (msg);
    data += len;
    size -= len;
    now += 40000000;
  }
  return 0;
}
