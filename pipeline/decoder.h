/* cordon — the ingest worker's H.264 and H.265 decoder (element "cordondec").
 *
 * libavcodec behind GstVideoDecoder. It asks the pool downstream for
 * buffers padded and aligned as libavcodec needs them, and libavcodec
 * decodes straight into them (get_buffer2): the picture it pushes is the
 * buffer it decoded into, and a reference picture stays there while
 * libavcodec still reads from it. In the worker that pool is the ring's
 * slots (slotpool.h), so no picture is copied between the decoder and the
 * daemon's encoder. gst-libav's avdec copies every picture out of
 * libavcodec's own frames (docs/performance.md).
 *
 * Without such a pool (none offered, or one that cannot give the padding)
 * libavcodec uses its own buffers and each picture is copied into one of
 * the pool's, as avdec does.
 *
 * Properties: max-threads (1: decode on the streaming thread; more: frame
 * threads), copied (read-only: pictures copied rather than decoded in
 * place).
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define CORDON_TYPE_DECODER (cordon_decoder_get_type ())
GType cordon_decoder_get_type (void);

/* Registers "cordondec" for gst_element_factory_make(); FALSE on failure. */
gboolean cordon_decoder_register (void);

G_END_DECLS
