/* wkp-export.c: presentation clips (Cairo drawing, libx264 + AAC in MP4). */
#include "wkp-export.h"
#include "wkp-face-parts.h"
#include "wkp-io.h"

#include <cairo.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <string.h>

#define STRIP_H_480 120     /* aperture strip height at the default panel height */
#define SECONDS_SHOWN 4.0

void
wkp_export_params_init_default (WkpExportParams *p)
{
  memset (p, 0, sizeof *p);
  p->fps = WKP_DEFAULT_FPS;
  p->height = 480;
  p->crf = 20;
}

char *
wkp_export_caption (const char *clip_name, int audio_late, const char *predicted_label, const char *compared_label)
{
  g_autofree char *moved = audio_late == 0 ? NULL
                           : g_strdup_printf ("%s (sound %d frame%s %s)", clip_name != NULL ? clip_name : "",
                                              ABS (audio_late), ABS (audio_late) == 1 ? "" : "s",
                                              audio_late > 0 ? "earlier" : "later");
  const char *name = moved != NULL ? moved : clip_name != NULL ? clip_name : "";
  if (predicted_label != NULL && compared_label != NULL)
    return g_strdup_printf ("%s · %s vs %s", name, predicted_label, compared_label);
  if (predicted_label != NULL)
    return g_strdup_printf ("%s · %s", name, predicted_label);
  if (compared_label != NULL)
    return g_strdup_printf ("%s · %s", name, compared_label);
  return g_strdup (name);
}

static void
set_av_error (GError **error, int averr, const char *path, const char *what)
{
  char buf[AV_ERROR_MAX_STRING_SIZE] = { 0 };
  av_strerror (averr, buf, sizeof buf);
  g_set_error (error, WKP_EXPORT_ERROR, WKP_ERROR_IO, "%s: %s (%s)", path, what, buf);
}

/* ------------------------------------------------------------------------ */
/* drawing                                                                   */

typedef struct {
  int W, H;               /* output size */
  int video_w;            /* width of the video panel (0 without video) */
  int strip_h;            /* height of the aperture strip */
  double u;               /* drawing unit: 1 at the default 480-pixel panels */
  int panel_h;
  double view_x0, view_y0, view_scale;   /* canonical -> mouth panel pixels */
  float *ref_norm;        /* reference normalised to the canonical frame */
  double *ap_pred, *ap_ref, *ap_comp;
  double ap_max;
  char  *title_lines[2];  /* the caption as set once for every frame (NULL: none) */
  int    n_title_lines;
  double title_size;
} Layout;

/* The studio's colours (extracted blue, predicted orange, compared purple),
 * lightened for the dark panels; green is the landmarks over the video, as in
 * the studio's frame view. Line styles as in the studio: its mouth view draws
 * extracted solid, predicted dashed, compared dotted; its aperture plot draws
 * the compared model dashed. Lengths in drawing units (Layout.u). */
static const double EXTRACTED_RGB[3] = { 0.40, 0.66, 1.00 };
static const double PREDICTED_RGB[3] = { 1.00, 0.55, 0.15 };
static const double COMPARED_RGB[3] = { 0.80, 0.55, 0.95 };
enum { STYLE_SOLID, STYLE_DASHED, STYLE_DOTTED };
static const double STYLE_DASHES[3][2] = { { 0, 0 }, { 6.0, 4.0 }, { 1.5, 3.5 } };

static void
set_style_at (cairo_t *cr, int style, double u, double offset)
{
  double d[2] = { STYLE_DASHES[style][0] * u, STYLE_DASHES[style][1] * u };
  cairo_set_dash (cr, d, style == STYLE_SOLID ? 0 : 2, offset);
}

static void
set_style (cairo_t *cr, int style, double u)
{
  set_style_at (cr, style, u, 0);
}

static void
path_polygon (cairo_t *cr, const float *pts, int first, int last, gboolean close, double sx, double sy,
              double ox, double oy)
{
  gboolean started = FALSE;
  for (int i = first; i <= last; i++)
    {
      double x = pts[2 * i], y = pts[2 * i + 1];
      if (!isfinite (x) || !isfinite (y))
        continue;
      if (!started)
        cairo_move_to (cr, ox + x * sx, oy + y * sy);
      else
        cairo_line_to (cr, ox + x * sx, oy + y * sy);
      started = TRUE;
    }
  if (started && close)
    cairo_close_path (cr);
}

static void
draw_mouth (cairo_t *cr, const Layout *L, const float *pts, const double rgb[3], int style)
{
  double s = L->view_scale, width = 3.0 * L->u, r = 3.6 * L->u;
  double ox = L->video_w + L->view_x0, oy = L->view_y0;
  if (pts == NULL || !isfinite (pts[2 * 48]))
    return;
  cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
  cairo_set_line_width (cr, width);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  set_style (cr, style, L->u);
  path_polygon (cr, pts, 48, 59, TRUE, s, s, ox, oy);
  cairo_stroke (cr);
  path_polygon (cr, pts, 60, 67, TRUE, s, s, ox, oy);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  for (int i = 48; i < 68; i++)
    {
      double x = ox + pts[2 * i] * s, y = oy + pts[2 * i + 1] * s;
      if (!isfinite (x) || !isfinite (y))
        continue;
      if (style == STYLE_SOLID)   /* the studio's marks: dots measured, squares predicted */
        cairo_arc (cr, x, y, r, 0, 2 * G_PI);
      else
        cairo_rectangle (cr, x - r, y - r, 2 * r, 2 * r);
      cairo_fill (cr);
    }
}

static void
draw_label (cairo_t *cr, double x, double y, const char *text, double r, double g, double b, double size)
{
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, size);
  cairo_set_source_rgb (cr, r, g, b);
  cairo_move_to (cr, x, y);
  cairo_show_text (cr, text);
}

/* @text in bold at *@size, made to fit @max_w: smaller type down to
 * @min_size, then cut with "…"; *@size and *@width receive what was used. */
static char *
fit_text (cairo_t *cr, const char *text, double max_w, double *size, double min_size, double *width)
{
  char *fitted = g_strdup (text);
  cairo_text_extents_t ext;

  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  for (;;)
    {
      cairo_set_font_size (cr, *size);
      cairo_text_extents (cr, fitted, &ext);
      if (ext.x_advance <= max_w || *size <= min_size)
        break;
      *size = MAX (*size - 1, min_size);
    }
  while (ext.x_advance > max_w && g_utf8_strlen (fitted, -1) > 1)
    {
      glong n = g_utf8_strlen (fitted, -1);
      g_autofree char *cut = g_utf8_substring (fitted, 0, n - 2);
      g_free (fitted);
      fitted = g_strconcat (cut, "…", NULL);
      cairo_text_extents (cr, fitted, &ext);
    }
  *width = ext.x_advance;
  return fitted;
}

/* Where a title that does not fit one line breaks: at the space that makes
 * the longer of the two lines shortest (in @cr's font), a " · " or " vs "
 * separator winning a tie within 10%; -1 when it has no space. *@skip
 * receives how many bytes after the break to leave out (the space, and a
 * "· " that would start the second line). */
static glong
title_break (cairo_t *cr, const char *title, gsize *skip)
{
  glong best = -1;
  double best_w = G_MAXDOUBLE;
  gboolean best_sep = FALSE;
  for (const char *c = strchr (title, ' '); c != NULL; c = strchr (c + 1, ' '))
    {
      g_autofree char *first = g_strndup (title, c - title);
      const gboolean sep = g_str_has_prefix (c, " · ") || g_str_has_prefix (c, " vs ");
      const char *second = c + 1;
      cairo_text_extents_t e1, e2;
      double w;
      if (c == title || c[1] == '\0')
        continue;
      if (g_str_has_prefix (c, " · "))
        second = c + strlen (" · ");
      cairo_text_extents (cr, first, &e1);
      cairo_text_extents (cr, second, &e2);
      w = MAX (e1.x_advance, e2.x_advance);
      if (best < 0 || (sep && !best_sep ? w < best_w * 1.1 : !sep && best_sep ? w * 1.1 < best_w : w < best_w))
        {
          best = c - title;
          best_w = w;
          best_sep = sep;
          *skip = (gsize) (second - c);
        }
    }
  return best;
}

int
wkp_export_title_lines (const char *title, double max_w, double unit, char **lines, double *size)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 1, 1);
  cairo_t *cr = cairo_create (surface);
  double w;
  int n = 1;

  /* one line at 14 units or more; else two lines (the caption names a clip
   * and up to two models, and a cut-off model name is the one thing a
   * presentation clip must not lose), then smaller type, then "…" */
  *size = 18 * unit;
  lines[0] = fit_text (cr, title, max_w, size, 14 * unit, &w);
  lines[1] = NULL;
  if (strcmp (lines[0], title) != 0 || w > max_w)
    {
      gsize skip = 0;
      glong at;
      cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
      cairo_set_font_size (cr, 18 * unit);
      at = title_break (cr, title, &skip);
      if (at > 0)
        {
          g_autofree char *first = g_strndup (title, at);
          const char *second = title + at + skip;
          double size1 = 18 * unit, size2 = 18 * unit;
          g_free (lines[0]);
          lines[0] = fit_text (cr, first, max_w, &size1, 12 * unit, &w);
          lines[1] = fit_text (cr, second, max_w, &size2, 12 * unit, &w);
          *size = MIN (size1, size2);
          /* both lines in one size */
          g_free (lines[0]);
          g_free (lines[1]);
          size1 = size2 = *size;
          lines[0] = fit_text (cr, first, max_w, &size1, *size, &w);
          lines[1] = fit_text (cr, second, max_w, &size2, *size, &w);
          n = 2;
        }
      else
        {
          g_free (lines[0]);
          *size = 18 * unit;
          lines[0] = fit_text (cr, title, max_w, size, 12 * unit, &w);
        }
    }
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  return n;
}

/* The title over the top left of the video panel, as layout_init set it
 * (within the panel: two lines, then smaller type, then cut with "…", so
 * it never runs into the mouth panel's legend), on a dark band so that it
 * reads on a light background. Returns the bottom of the band. */
static double
draw_title (cairo_t *cr, const Layout *L, double x, double y)
{
  char *const *lines = L->title_lines;
  const int n = L->n_title_lines;
  const double size = L->title_size;
  double w = 0, line_h;
  cairo_text_extents_t ext;

  line_h = size * 1.25;
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, size);
  for (int k = 0; k < n; k++)
    {
      cairo_text_extents (cr, lines[k], &ext);
      w = MAX (w, ext.x_advance);
    }
  cairo_set_source_rgba (cr, 0, 0, 0, 0.55);
  cairo_rectangle (cr, x - 6 * L->u, y - size - 2 * L->u, w + 12 * L->u, size + 10 * L->u + (n - 1) * line_h);
  cairo_fill (cr);
  for (int k = 0; k < n; k++)
    draw_label (cr, x, y + k * line_h, lines[k], 0.95, 0.95, 0.95, size);
  return y + 8 * L->u + (n - 1) * line_h;
}

/* One legend line: a short stroke in the curve's style, then its name
 * (within @max_w). */
static void
draw_legend_line (cairo_t *cr, const Layout *L, double x, double y, const char *text, const double rgb[3],
                  int style, double max_w)
{
  double size = 16 * L->u, w, sample = 30 * L->u;
  g_autofree char *fitted = fit_text (cr, text, max_w - sample - 8 * L->u, &size, 11 * L->u, &w);
  cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
  cairo_set_line_width (cr, 3.0 * L->u);
  set_style (cr, style, L->u);
  cairo_move_to (cr, x, y - size * 0.35);
  cairo_line_to (cr, x + sample, y - size * 0.35);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  draw_label (cr, x + sample + 8 * L->u, y, fitted, rgb[0], rgb[1], rgb[2], size);
}

static void
draw_frame (cairo_t *cr, const Layout *L, const WkpExportParams *p, gint64 i, const WkpFrame *frame)
{
  const float *pred = p->predicted ? p->predicted + i * WKP_N_LANDMARKS * 2 : NULL;
  const float *comp = p->compared ? p->compared + i * WKP_N_LANDMARKS * 2 : NULL;
  const float *refn = L->ref_norm ? L->ref_norm + i * WKP_N_LANDMARKS * 2 : NULL;

  cairo_set_source_rgb (cr, 0.11, 0.11, 0.13);
  cairo_paint (cr);

  /* video panel with the extracted landmarks */
  if (L->video_w > 0 && frame != NULL)
    {
      cairo_surface_t *img = cairo_image_surface_create (CAIRO_FORMAT_RGB24, frame->width, frame->height);
      guint8 *dst = cairo_image_surface_get_data (img);
      int dstride = cairo_image_surface_get_stride (img);
      double s = (double) L->panel_h / frame->height;
      cairo_surface_flush (img);
      for (int y = 0; y < frame->height; y++)
        {
          const guint8 *src = frame->data + (gsize) y * frame->stride;
          guint32 *row = (guint32 *) (dst + (gsize) y * dstride);
          for (int x = 0; x < frame->width; x++)
            row[x] = ((guint32) src[3 * x] << 16) | ((guint32) src[3 * x + 1] << 8) | src[3 * x + 2];
        }
      cairo_surface_mark_dirty (img);
      cairo_save (cr);
      cairo_rectangle (cr, 0, 0, L->video_w, L->panel_h);
      cairo_clip (cr);
      cairo_scale (cr, s, s);
      cairo_set_source_surface (cr, img, 0, 0);
      cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_GOOD);
      cairo_paint (cr);
      cairo_restore (cr);
      cairo_surface_destroy (img);
      if (p->reference != NULL)
        {
          /* the studio's frame view: the contours of jaw, brows, nose,
           * eyes and lips, and the points on them */
          const float *pts = p->reference + i * WKP_N_LANDMARKS * 2;
          cairo_set_source_rgba (cr, 0.30, 0.90, 0.45, 0.8);
          cairo_set_line_width (cr, MAX (1.5 * L->u, 1.2));   /* H.264's half-size chroma washes out thinner lines */
          cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
          for (guint k = 0; k < G_N_ELEMENTS (WKP_FACE_PARTS); k++)
            {
              path_polygon (cr, pts, WKP_FACE_PARTS[k].first, WKP_FACE_PARTS[k].last, WKP_FACE_PARTS[k].closed, s, s,
                            0, 0);
              cairo_stroke (cr);
            }
          cairo_set_source_rgba (cr, 0.30, 0.90, 0.45, 0.95);
          for (int k = 0; k < WKP_N_LANDMARKS; k++)
            if (isfinite (pts[2 * k]))
              {
                cairo_arc (cr, pts[2 * k] * s, pts[2 * k + 1] * s, MAX (2.0 * L->u, 1.5), 0, 2 * G_PI);
                cairo_fill (cr);
              }
        }
    }

  /* mouth panel */
  cairo_set_source_rgb (cr, 0.16, 0.16, 0.19);
  cairo_rectangle (cr, L->video_w, 0, L->W - L->video_w, L->panel_h);
  cairo_fill (cr);
  /* the title over the video panel, or over the mouth panel when there is no video */
  double title_bottom = 0;
  if (L->n_title_lines > 0)
    title_bottom = draw_title (cr, L, 16 * L->u, 28 * L->u);
  draw_mouth (cr, L, refn, EXTRACTED_RGB, STYLE_SOLID);
  draw_mouth (cr, L, comp, COMPARED_RGB, STYLE_DOTTED);
  draw_mouth (cr, L, pred, PREDICTED_RGB, STYLE_DASHED);
  {
    /* one line per curve, named (model files), in the order of the studio's
     * legend; every curve of the clip is listed, also in frames without it */
    double u = L->u, ly = (p->title != NULL && L->video_w == 0) ? title_bottom + 22 * u : 28 * u;
    double lx = L->video_w + 16 * u, max_w = L->W - lx - 12 * u;
    if (p->reference != NULL)
      {
        draw_legend_line (cr, L, lx, ly, "extracted", EXTRACTED_RGB, STYLE_SOLID, max_w);
        ly += 24 * u;
      }
    if (p->predicted != NULL)
      {
        draw_legend_line (cr, L, lx, ly, p->predicted_label ? p->predicted_label : "predicted", PREDICTED_RGB,
                          STYLE_DASHED, max_w);
        ly += 24 * u;
      }
    if (p->compared != NULL)
      draw_legend_line (cr, L, lx, ly, p->compared_label ? p->compared_label : "compared", COMPARED_RGB,
                        STYLE_DOTTED, max_w);
  }
  {
    /* frames counted from 1, as in the studio */
    g_autofree char *t = g_strdup_printf ("%.2f s   frame %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT,
                                          wkp_frame_to_us (i, p->fps) / 1e6, i + 1, p->n_frames);
    double size = 15 * L->u, w;
    g_autofree char *fitted = fit_text (cr, t, L->W - L->video_w - 24 * L->u, &size, 9 * L->u, &w);
    draw_label (cr, L->video_w + 16 * L->u, L->panel_h - 16 * L->u, fitted, 0.85, 0.85, 0.85, size);
  }

  /* aperture strip: SECONDS_SHOWN seconds around the playhead */
  {
    double u = L->u, y0 = L->panel_h, top = y0 + 10 * u, h = L->strip_h - 32 * u;
    const double fps = wkp_rational_to_double (p->fps);
    double px_per_frame = L->W / (SECONDS_SHOWN * fps);
    double cx = L->W / 2.0;
    const double *curves[3] = { L->ap_ref, L->ap_pred, L->ap_comp };
    const double *colors[3] = { EXTRACTED_RGB, PREDICTED_RGB, COMPARED_RGB };
    /* aperture gridlines, in inter-ocular distances as `evaluate` measures it */
    const double step = L->ap_max <= 0.12 ? 0.02 : L->ap_max <= 0.3 ? 0.05 : 0.1;
    cairo_set_source_rgb (cr, 0.13, 0.13, 0.15);
    cairo_rectangle (cr, 0, y0, L->W, L->strip_h);
    cairo_fill (cr);
    cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size (cr, 10 * u);
    {
      /* the axes: aperture gridlines (in outer eye-corner distances, as
       * `evaluate` measures it) labelled on the right, and the clip's
       * seconds below the curves, moving with them */
      const double t_first = (i - cx / px_per_frame) / fps, t_last = (i + cx / px_per_frame) / fps;
      const double t_end = p->n_frames / fps;
      cairo_text_extents_t ext;
      cairo_set_line_width (cr, MAX (1.0, 0.8 * u));
      for (int k = 0; k * step <= L->ap_max; k++)
        {
          double y = top + h * (1.0 - k * step / L->ap_max);
          cairo_set_source_rgba (cr, 1, 1, 1, k == 0 ? 0.22 : 0.08);
          cairo_move_to (cr, 0, round (y) + 0.5);
          cairo_line_to (cr, L->W, round (y) + 0.5);
          cairo_stroke (cr);
        }
      for (gint64 sec = MAX (0, (gint64) ceil (t_first)); sec <= t_last && sec <= t_end; sec++)
        {
          g_autofree char *t = g_strdup_printf ("%" G_GINT64_FORMAT " s", sec);
          double x = cx + (sec * fps - i) * px_per_frame;
          cairo_set_source_rgba (cr, 1, 1, 1, 0.22);
          cairo_move_to (cr, round (x) + 0.5, top + h);
          cairo_line_to (cr, round (x) + 0.5, top + h + 5 * u);
          cairo_stroke (cr);
          cairo_text_extents (cr, t, &ext);
          /* a label is drawn whole or not at all: not cut by the strip's
           * edges ("3 s" showed as "s"), nor crossed by the playhead */
          if (x - ext.x_advance / 2 < 2 * u || x + ext.x_advance / 2 > L->W - 2 * u
              || fabs (x - cx) < ext.x_advance / 2 + 3 * u)
            continue;
          cairo_set_source_rgb (cr, 0.55, 0.55, 0.58);
          cairo_move_to (cr, x - ext.x_advance / 2, y0 + L->strip_h - 6 * u);
          cairo_show_text (cr, t);
        }
    }
    for (int c = 0; c < 3; c++)
      {
        gboolean pen = FALSE;
        gint64 k0 = MAX (0, i - (gint64) (cx / px_per_frame) - 1);
        /* in the mouth panel's styles (its legend is theirs too; the
         * prediction was solid here, as the extracted curve is), the dashes
         * laid from the curve's start, so that they move with it as it
         * scrolls instead of shimmering under a pattern fixed on screen */
        int style = c == 0 ? STYLE_SOLID : c == 1 ? STYLE_DASHED : STYLE_DOTTED;
        double along = 0;   /* the curve's length from frame 0 to frame k */
        if (curves[c] == NULL)
          continue;
#define SEGMENT(k) (isfinite (curves[c][(k)]) && isfinite (curves[c][(k) - 1]) \
                      ? hypot (px_per_frame, h * (curves[c][(k)] - curves[c][(k) - 1]) / L->ap_max) : px_per_frame)
        for (gint64 k = 1; k <= k0; k++)
          along += SEGMENT (k);
        cairo_set_source_rgb (cr, colors[c][0], colors[c][1], colors[c][2]);
        cairo_set_line_width (cr, 2.0 * u);
        for (gint64 k = k0; k < MIN (p->n_frames, i + (gint64) (cx / px_per_frame) + 2); k++)
          {
            double v = curves[c][k];
            double x = cx + (k - i) * px_per_frame, y = top + h * (1.0 - v / L->ap_max);
            if (k > k0)
              along += SEGMENT (k);
            if (!isfinite (v))
              {
                pen = FALSE;
                continue;
              }
            if (!pen)
              {
                /* each piece between gaps: its own stroke, dashed from where it lies on the curve */
                cairo_stroke (cr);
                set_style_at (cr, style, u, along);
                cairo_move_to (cr, x, y);
              }
            else
              cairo_line_to (cr, x, y);
            pen = TRUE;
          }
#undef SEGMENT
        cairo_stroke (cr);
        cairo_set_dash (cr, NULL, 0, 0);
      }
    {
      /* the gridlines' values on the right, over the curves on a backing of
       * the strip's colour (they were drawn under the curves, unreadable) */
      cairo_text_extents_t ext;
      cairo_set_font_size (cr, 10 * u);
      for (int k = 0; k * step <= L->ap_max; k++)
        {
          g_autofree char *t = g_strdup_printf ("%.2f", k * step);
          double y = top + h * (1.0 - k * step / L->ap_max);
          cairo_text_extents (cr, t, &ext);
          cairo_set_source_rgba (cr, 0.13, 0.13, 0.15, 0.85);
          cairo_rectangle (cr, L->W - ext.x_advance - 9 * u, y - 3 * u - ext.height - 2 * u, ext.x_advance + 6 * u,
                           ext.height + 4 * u);
          cairo_fill (cr);
          cairo_set_source_rgb (cr, 0.55, 0.55, 0.58);
          cairo_move_to (cr, L->W - ext.x_advance - 6 * u, y - 3 * u);
          cairo_show_text (cr, t);
        }
    }
    cairo_set_source_rgb (cr, 0.9, 0.9, 0.9);
    cairo_set_line_width (cr, MAX (1.0, u));
    cairo_move_to (cr, cx + 0.5, y0);
    cairo_line_to (cr, cx + 0.5, y0 + L->strip_h);
    cairo_stroke (cr);
    /* (the studio's wording and unit: the same measure) */
    draw_label (cr, 8 * u, y0 + 16 * u, "inner-lip aperture (÷ inter-ocular distance)", 0.7, 0.7, 0.7, 12 * u);
  }
}

/* The inner-lip aperture of each frame of @track (NULL for none), raising
 * *max to the largest finite one. */
static double *
aperture_curve (const float *track, gint64 n_frames, double *max)
{
  double *ap;
  if (track == NULL)
    return NULL;
  ap = g_new (double, MAX (n_frames, 1));
  for (gint64 i = 0; i < n_frames; i++)
    {
      ap[i] = wkp_face_inner_aperture (track + i * WKP_N_LANDMARKS * 2);
      if (isfinite (ap[i]))
        *max = MAX (*max, ap[i]);
    }
  return ap;
}

static gboolean
layout_init (Layout *L, const WkpExportParams *p, int video_w, int video_h, GError **error)
{
  const float *mean = wkp_face_canonical ();
  double minx = G_MAXDOUBLE, maxx = -G_MAXDOUBLE, miny = G_MAXDOUBLE, maxy = -G_MAXDOUBLE;
  int mouth_w;

  memset (L, 0, sizeof *L);
  L->panel_h = (p->height > 0 ? p->height : 480) & ~1;
  if (video_w > 0)
    L->video_w = ((int) ceil ((double) video_w * L->panel_h / video_h) + 1) & ~1;
  mouth_w = L->panel_h;
  L->u = MAX (L->panel_h / 480.0, 0.6);   /* type stays legible on small panels */
  L->strip_h = ((int) lround (STRIP_H_480 * L->u)) & ~1;
  L->W = L->video_w + mouth_w;
  L->H = L->panel_h + L->strip_h;

  /* the mouth view frames the mean mouth with room for wide openings */
  for (int k = WKP_MOUTH_FIRST; k < WKP_N_LANDMARKS; k++)
    {
      minx = MIN (minx, mean[2 * k]);
      maxx = MAX (maxx, mean[2 * k]);
      miny = MIN (miny, mean[2 * k + 1]);
      maxy = MAX (maxy, mean[2 * k + 1]);
    }
  L->view_scale = 0.45 * mouth_w / MAX (maxx - minx, 1e-3);
  L->view_x0 = mouth_w / 2.0 - L->view_scale * (minx + maxx) / 2;
  L->view_y0 = L->panel_h / 2.0 - L->view_scale * (miny + maxy) / 2;

  /* aperture curves and the reference in the canonical frame */
  L->ap_max = 0.05;
  L->ap_pred = aperture_curve (p->predicted, p->n_frames, &L->ap_max);
  L->ap_comp = aperture_curve (p->compared, p->n_frames, &L->ap_max);
  if (p->reference != NULL)
    {
      L->ref_norm = g_new (float, MAX (p->n_frames, 1) * WKP_N_LANDMARKS * 2);
      L->ap_ref = g_new (double, MAX (p->n_frames, 1));
      for (gint64 i = 0; i < p->n_frames; i++)
        {
          float *dst = L->ref_norm + i * WKP_N_LANDMARKS * 2;
          if (!wkp_face_normalize (p->reference + i * WKP_N_LANDMARKS * 2, dst, NULL, NULL))
            for (int k = 0; k < WKP_N_LANDMARKS * 2; k++)
              dst[k] = NAN;
          L->ap_ref[i] = wkp_face_inner_aperture (p->reference + i * WKP_N_LANDMARKS * 2);
          if (isfinite (L->ap_ref[i]))
            L->ap_max = MAX (L->ap_max, L->ap_ref[i]);
        }
    }
  L->ap_max *= 1.15;
  if (p->title != NULL)
    L->n_title_lines = wkp_export_title_lines (p->title, (L->video_w > 0 ? L->video_w : L->W) - 32 * L->u, L->u,
                                               L->title_lines, &L->title_size);
  if (L->W <= 0 || L->H <= 0)
    {
      g_set_error_literal (error, WKP_EXPORT_ERROR, WKP_ERROR_INVALID, "Invalid output size");
      return FALSE;
    }
  return TRUE;
}

static void
layout_clear (Layout *L)
{
  g_free (L->ref_norm);
  g_free (L->ap_pred);
  g_free (L->ap_ref);
  g_free (L->ap_comp);
  g_free (L->title_lines[0]);
  g_free (L->title_lines[1]);
}

/* ------------------------------------------------------------------------ */
/* encoding                                                                  */

typedef struct {
  AVFormatContext *oc;
  AVCodecContext  *venc, *aenc;
  AVStream        *vst, *ast;
  AVFrame         *vframe, *aframe;
  AVPacket        *pkt;
  struct SwsContext *sws;
  gint64           audio_pos;   /* samples sent to the encoder */
  gint64           audio_start; /* the source sample of output sample 0 (an excerpt's first frame) */
  int              frame_size;  /* the audio encoder's samples per frame */
  const char      *path;
} Encoder;

static gboolean
write_packets (Encoder *e, AVCodecContext *c, AVStream *st, GError **error)
{
  int ret;
  while ((ret = avcodec_receive_packet (c, e->pkt)) >= 0)
    {
      av_packet_rescale_ts (e->pkt, c->time_base, st->time_base);
      e->pkt->stream_index = st->index;
      ret = av_interleaved_write_frame (e->oc, e->pkt);
      if (ret < 0)
        {
          set_av_error (error, ret, e->path, "cannot write");
          return FALSE;
        }
    }
  if (ret != AVERROR (EAGAIN) && ret != AVERROR_EOF)
    {
      set_av_error (error, ret, e->path, "encoding failed");
      return FALSE;
    }
  return TRUE;
}

/* The names a presentation clip may have and the container each asks for
 * (H.264 + AAC fit each): a clip named .avi or .webm was written as MP4
 * under that name before. */
static const char *const extensions[] = { ".mp4", ".m4v", ".mov", ".mkv", NULL };
static const char *const containers[] = { "mp4", "mp4", "mov", "matroska" };
G_STATIC_ASSERT (G_N_ELEMENTS (extensions) == G_N_ELEMENTS (containers) + 1);

const char *const *
wkp_export_extensions (void)
{
  return extensions;
}

const char *
wkp_export_container_for (const char *path)
{
  const char *dot = path != NULL ? strrchr (path, '.') : NULL;
  if (dot == NULL || strchr (dot, G_DIR_SEPARATOR) != NULL)
    return NULL;
  for (gsize i = 0; extensions[i] != NULL; i++)
    if (g_ascii_strcasecmp (dot, extensions[i]) == 0)
      return containers[i];
  return NULL;
}

static gboolean
encoder_open (Encoder *e, const char *tmp, const char *path, const Layout *L, const WkpExportParams *p,
              GError **error)
{
  const AVCodec *vc, *ac;
  int ret;

  e->path = path;
  wkp_ffmpeg_init ();
  ret = avformat_alloc_output_context2 (&e->oc, NULL, wkp_export_container_for (path), tmp);
  if (ret < 0)
    {
      set_av_error (error, ret, path, "cannot create the video file");
      return FALSE;
    }
  vc = avcodec_find_encoder_by_name ("libx264");
  if (vc == NULL)
    vc = avcodec_find_encoder (AV_CODEC_ID_MPEG4);
  if (vc == NULL)
    {
      g_set_error (error, WKP_EXPORT_ERROR, WKP_ERROR_UNSUPPORTED, "%s: no H.264 or MPEG-4 encoder available", path);
      return FALSE;
    }
  e->venc = avcodec_alloc_context3 (vc);
  e->venc->width = L->W;
  e->venc->height = L->H;
  e->venc->time_base = (AVRational) { p->fps.den, p->fps.num };
  e->venc->framerate = (AVRational) { p->fps.num, p->fps.den };
  e->venc->pix_fmt = AV_PIX_FMT_YUV420P;
  e->venc->gop_size = 50;
  e->venc->thread_count = 2;
  if (e->oc->oformat->flags & AVFMT_GLOBALHEADER)
    e->venc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  if (strcmp (vc->name, "libx264") == 0)
    {
      av_opt_set (e->venc->priv_data, "preset", "veryfast", 0);
      av_opt_set_int (e->venc->priv_data, "crf", p->crf > 0 ? p->crf : 20, 0);
    }
  else
    e->venc->bit_rate = 2000000;
  ret = avcodec_open2 (e->venc, vc, NULL);
  if (ret < 0)
    {
      set_av_error (error, ret, path, "cannot open the video encoder");
      return FALSE;
    }
  e->vst = avformat_new_stream (e->oc, NULL);
  avcodec_parameters_from_context (e->vst->codecpar, e->venc);
  e->vst->time_base = e->venc->time_base;
  e->vst->avg_frame_rate = e->venc->framerate;

  if (p->audio != NULL)
    {
      AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
      ac = avcodec_find_encoder (AV_CODEC_ID_AAC);
      if (ac == NULL)
        {
          g_set_error (error, WKP_EXPORT_ERROR, WKP_ERROR_UNSUPPORTED, "%s: no AAC encoder available", path);
          return FALSE;
        }
      e->aenc = avcodec_alloc_context3 (ac);
      e->aenc->sample_fmt = AV_SAMPLE_FMT_FLTP;
      e->aenc->sample_rate = p->audio->rate;
      av_channel_layout_copy (&e->aenc->ch_layout, &mono);
      e->aenc->bit_rate = 64000;
      e->aenc->time_base = (AVRational) { 1, p->audio->rate };
      if (e->oc->oformat->flags & AVFMT_GLOBALHEADER)
        e->aenc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
      ret = avcodec_open2 (e->aenc, ac, NULL);
      if (ret < 0)
        {
          set_av_error (error, ret, path, "cannot open the AAC encoder");
          return FALSE;
        }
      e->ast = avformat_new_stream (e->oc, NULL);
      avcodec_parameters_from_context (e->ast->codecpar, e->aenc);
      e->ast->time_base = e->aenc->time_base;
      e->aframe = av_frame_alloc ();
      e->aframe->format = AV_SAMPLE_FMT_FLTP;
      e->aframe->sample_rate = p->audio->rate;
      av_channel_layout_copy (&e->aframe->ch_layout, &mono);
      e->frame_size = e->aenc->frame_size > 0 ? e->aenc->frame_size : 1024;
      e->aframe->nb_samples = e->frame_size;
      av_frame_get_buffer (e->aframe, 0);
    }

  ret = avio_open (&e->oc->pb, tmp, AVIO_FLAG_WRITE);
  if (ret < 0)
    {
      set_av_error (error, ret, path, "cannot write");
      return FALSE;
    }
  ret = avformat_write_header (e->oc, NULL);
  if (ret < 0)
    {
      set_av_error (error, ret, path, "cannot write the video file's header");
      return FALSE;
    }
  e->vframe = av_frame_alloc ();
  e->vframe->format = AV_PIX_FMT_YUV420P;
  e->vframe->width = L->W;
  e->vframe->height = L->H;
  av_frame_get_buffer (e->vframe, 0);
  e->pkt = av_packet_alloc ();
  e->sws = sws_getContext (L->W, L->H, AV_PIX_FMT_BGRA, L->W, L->H, AV_PIX_FMT_YUV420P, SWS_BILINEAR,
                           NULL, NULL, NULL);
  return TRUE;
}

/* Feeds audio up to sample @until (NULL audio: nothing), silence past the
 * audio's end, so that the track lasts as long as the video; @flush sends
 * the last partial frame (short, when the encoder takes a short last frame;
 * else zero-padded). */
static gboolean
encode_audio_until (Encoder *e, const WkpAudio *audio, gint64 until, gboolean flush, GError **error)
{
  int fs;
  if (e->aenc == NULL)
    return TRUE;
  fs = e->frame_size;
  while (e->audio_pos + fs <= until || (flush && e->audio_pos < until))
    {
      float *dst;
      gint64 n = MIN (fs, until - e->audio_pos);
      gint64 have = CLAMP (audio->n_samples - (e->audio_start + e->audio_pos), 0, n);
      gboolean short_last = n < fs && (e->aenc->codec->capabilities & AV_CODEC_CAP_SMALL_LAST_FRAME);
      e->aframe->nb_samples = short_last ? (int) n : fs;
      av_frame_make_writable (e->aframe);
      dst = (float *) e->aframe->data[0];
      if (have > 0)
        memcpy (dst, audio->samples + e->audio_start + e->audio_pos, have * sizeof (float));
      memset (dst + have, 0, (e->aframe->nb_samples - have) * sizeof (float));
      e->aframe->pts = e->audio_pos;
      e->audio_pos += n;
      if (avcodec_send_frame (e->aenc, e->aframe) < 0 || !write_packets (e, e->aenc, e->ast, error))
        return FALSE;
      if (n < fs)
        break;
    }
  return TRUE;
}

static void
encoder_free (Encoder *e)
{
  if (e->oc != NULL && e->oc->pb != NULL)
    avio_closep (&e->oc->pb);
  avformat_free_context (e->oc);
  avcodec_free_context (&e->venc);
  avcodec_free_context (&e->aenc);
  av_frame_free (&e->vframe);
  av_frame_free (&e->aframe);
  av_packet_free (&e->pkt);
  sws_freeContext (e->sws);
}

gboolean
wkp_export_clip (const WkpExportParams *p, const char *output, WkpProgressFunc progress, gpointer progress_data,
                 GCancellable *cancellable, GError **error)
{
  g_autoptr(WkpOutput) out = NULL;
  g_autoptr(WkpVideoReader) reader = NULL;
  Encoder enc = { 0 };
  Layout L;
  cairo_surface_t *surface = NULL;
  cairo_t *cr = NULL;
  const char *tmp;
  gboolean ok = FALSE;
  int vw = 0, vh = 0;
  gint64 first, end;

  g_return_val_if_fail (p != NULL && output != NULL, FALSE);
  if (!wkp_rational_is_valid (p->fps) || p->n_frames <= 0)
    {
      g_set_error (error, WKP_EXPORT_ERROR, WKP_ERROR_INVALID, "%s: nothing to render (no frames)", output);
      return FALSE;
    }
  /* an excerpt: frames [first, end) of the clip */
  first = p->start_frame;
  end = p->end_frame > 0 ? p->end_frame : p->n_frames;
  if (first < 0 || first >= p->n_frames || end <= first || end > p->n_frames)
    {
      g_set_error (error, WKP_EXPORT_ERROR, WKP_ERROR_INVALID,
                   "%s: nothing to render: frames %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT
                   " asked for, the clip has %" G_GINT64_FORMAT, output, first + 1, end, p->n_frames);
      return FALSE;
    }
  if (p->predicted == NULL && p->reference == NULL && p->video == NULL)
    {
      g_set_error (error, WKP_EXPORT_ERROR, WKP_ERROR_INVALID, "%s: nothing to render (no video, no keypoints)", output);
      return FALSE;
    }
  if (wkp_export_container_for (output) == NULL)
    {
      /* (the names from the table the container is looked up in) */
      g_autofree char *others = g_strjoinv (", ", (char **) extensions + 1);
      g_set_error (error, WKP_EXPORT_ERROR, WKP_ERROR_INVALID,
                   "%s: a presentation clip is H.264 video with AAC sound: name it %s (or %s)", output, extensions[0],
                   others);
      return FALSE;
    }
  if (!wkp_check_output_path (output, error))
    return FALSE;
  if (p->video != NULL)
    {
      reader = wkp_video_reader_open (p->video, p->fps, WKP_PIXEL_RGB24, error);
      if (reader == NULL)
        return FALSE;
      vw = wkp_video_reader_get_info (reader)->width;
      vh = wkp_video_reader_get_info (reader)->height;
    }
  if (reader != NULL && first > 0 && !wkp_video_reader_seek (reader, first, error))
    return FALSE;
  if (!layout_init (&L, p, vw, vh, error))
    return FALSE;

  out = wkp_output_new ();
  tmp = wkp_output_add_stream (out, output, error);
  if (tmp == NULL || !encoder_open (&enc, tmp, output, &L, p, error))
    goto done;

  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, L.W, L.H);
  cr = cairo_create (surface);
  if (p->audio != NULL)
    enc.audio_start = wkp_frame_to_sample (first, p->fps, p->audio->rate);
  for (gint64 i = first; i < end; i++)
    {
      WkpFrame frame, *fp = NULL;
      const guint8 *src[1];
      int src_stride[1];

      if (wkp_check_cancelled (cancellable, error))
        goto done;
      if (reader != NULL)
        {
          g_autoptr(GError) local = NULL;
          if (wkp_video_reader_next (reader, &frame, &local))
            fp = &frame;
          else if (local != NULL)
            {
              g_propagate_error (error, g_steal_pointer (&local));
              goto done;
            }
        }
      draw_frame (cr, &L, p, i, fp);
      cairo_surface_flush (surface);
      src[0] = cairo_image_surface_get_data (surface);
      src_stride[0] = cairo_image_surface_get_stride (surface);
      av_frame_make_writable (enc.vframe);
      sws_scale (enc.sws, src, src_stride, 0, L.H, enc.vframe->data, enc.vframe->linesize);
      enc.vframe->pts = i - first;
      if (avcodec_send_frame (enc.venc, enc.vframe) < 0 || !write_packets (&enc, enc.venc, enc.vst, error))
        goto done;
      if (p->audio != NULL
          && !encode_audio_until (&enc, p->audio, wkp_frame_to_sample (i + 1, p->fps, p->audio->rate) - enc.audio_start,
                                  FALSE, error))
        goto done;
      if (progress != NULL)
        progress (i - first + 1, end - first, "rendering", progress_data);
    }
  if (p->audio != NULL)
    {
      gint64 until = wkp_frame_to_sample (end, p->fps, p->audio->rate) - enc.audio_start;
      if (!encode_audio_until (&enc, p->audio, until, TRUE, error))
        goto done;
      avcodec_send_frame (enc.aenc, NULL);
      if (!write_packets (&enc, enc.aenc, enc.ast, error))
        goto done;
    }
  avcodec_send_frame (enc.venc, NULL);
  if (!write_packets (&enc, enc.venc, enc.vst, error))
    goto done;
  {
    int ret = av_write_trailer (enc.oc);
    if (ret < 0)
      {
        set_av_error (error, ret, output, "cannot finish the video file");
        goto done;
      }
  }
  avio_closep (&enc.oc->pb);
  ok = wkp_output_commit (out, error);

done:
  if (cr != NULL)
    cairo_destroy (cr);
  if (surface != NULL)
    cairo_surface_destroy (surface);
  encoder_free (&enc);
  layout_clear (&L);
  return ok;
}
