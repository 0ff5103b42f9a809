/* cordon — helpers both the daemon and the ingest worker use. */
#define G_LOG_DOMAIN "cordon-pipeline"

#include "pipeline-private.h"

G_DEFINE_QUARK (cordon-pipeline-error-quark, cordon_pipeline_error)

GstElement *
cordon_make (const char *factory, GError **error)
{
  GstElement *element = gst_element_factory_make (factory, NULL);
  if (!element)
    g_set_error (error, CORDON_PIPELINE_ERROR, CORDON_PIPELINE_ERROR_FAILED,
                 "GStreamer element %s is missing (install the plugin that provides it)", factory);
  return element;
}

/* Text that came from the camera (or from an element describing what the
 * camera did) goes into the log as one printable line. */
char *
cordon_sanitize (const char *text)
{
  GString *out = g_string_new (NULL);
  for (const char *c = text ? text : ""; *c && out->len < 200; c++)
    g_string_append_c (out, g_ascii_isprint (*c) ? *c : '?');
  return g_string_free (out, FALSE);
}

