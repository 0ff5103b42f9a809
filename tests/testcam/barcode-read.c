/* cordon-testcam — prints the bar code value of each raw GRAY8 (or I420:
 * the luma plane comes first) frame read from standard input, one line per
 * frame: the value, or "-" where none could be read.
 *
 *   ffmpeg -i rtsp://… -vf format=gray -f rawvideo - | barcode-read 640 360
 */
#include "barcode.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

int
main (int argc, char **argv)
{
  int width, height;
  size_t frame_size;
  uint8_t *frame;
  uint64_t value;

  if (argc < 3 || (width = atoi (argv[1])) <= 0 || (height = atoi (argv[2])) <= 0) {
    fprintf (stderr, "usage: %s WIDTH HEIGHT [FRAME-BYTES] < frames\n", argv[0]);
    return 2;
  }
  frame_size = argc > 3 ? (size_t) strtoull (argv[3], NULL, 10) : (size_t) width * height;
  if (frame_size < (size_t) width * height || !(frame = malloc (frame_size))) {
    fprintf (stderr, "%s: bad frame size\n", argv[0]);
    return 2;
  }
  while (fread (frame, 1, frame_size, stdin) == frame_size) {
    if (cordon_barcode_decode (frame, width, height, width, &value))
      printf ("%" PRIu64 "\n", value);
    else
      printf ("-\n");
  }
  free (frame);
  return 0;
}
