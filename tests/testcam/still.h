/* cordon-testcam — the still picture for quality comparisons. */
#pragma once

#include <stdint.h>

/* Draws a fixed, detailed test card into the three planes of an I420 picture
 * `width` × `height` (both even): 75% colour bars, a zone plate, checker
 * boards of 2 to 16 pixels, a luma ramp, grey steps and a smooth random
 * texture. The same size always gives the same bytes. */
void cordon_testcam_still_draw (uint8_t *y, int y_stride, uint8_t *u, int u_stride,
                                uint8_t *v, int v_stride, int width, int height);
