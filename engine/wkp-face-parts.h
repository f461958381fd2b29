/* wkp-face-parts.h: the contour groups of the 68-point iBUG layout.
 *
 * Header only (a table, no code): the engine's presentation clips and the
 * GTK widgets draw the same contours from it, and the widgets still link
 * nothing of the engine. */
#pragma once

#include <glib.h>

typedef struct {
  int      first;
  int      last;      /* inclusive */
  gboolean closed;
} WkpFacePart;

static const WkpFacePart WKP_FACE_PARTS[] = {
  { 0, 16, FALSE },   /* jaw */
  { 17, 21, FALSE },  /* right brow */
  { 22, 26, FALSE },  /* left brow */
  { 27, 30, FALSE },  /* nose bridge */
  { 31, 35, FALSE },  /* nostrils */
  { 36, 41, TRUE },   /* right eye */
  { 42, 47, TRUE },   /* left eye */
  { 48, 59, TRUE },   /* outer lip */
  { 60, 67, TRUE },   /* inner lip */
};
