/* wkp-plot.c: aperture-over-time and summary bar charts (Cairo, SVG + PNG).
 * Each chart is drawn by one function onto any cairo_t and rendered twice:
 * onto an SVG stream and onto an image surface encoded as PNG. */
#include "wkp-plot.h"

#include "wkp-io.h"

#include <cairo.h>
#include <cairo-svg.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define FONT "DejaVu Sans"

static const double palette[][3] = {
  { 0.122, 0.467, 0.706 }, /* blue */
  { 1.000, 0.498, 0.055 }, /* orange */
  { 0.173, 0.627, 0.173 }, /* green */
  { 0.839, 0.153, 0.157 }, /* red */
  { 0.580, 0.404, 0.741 }, /* purple */
  { 0.549, 0.337, 0.294 }, /* brown */
  { 0.890, 0.467, 0.761 }, /* pink */
  { 0.498, 0.498, 0.498 }, /* grey */
  { 0.737, 0.741, 0.133 }, /* olive */
  { 0.090, 0.745, 0.812 }, /* cyan */
};

static void
set_colour (cairo_t *cr, int i)
{
  const double *c = palette[i % G_N_ELEMENTS (palette)];
  cairo_set_source_rgb (cr, c[0], c[1], c[2]);
}

typedef void (*DrawFunc) (cairo_t *cr, double w, double h, gconstpointer data);

static cairo_status_t
append_bytes (void *closure, const unsigned char *data, unsigned int length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

static gboolean
render (const char *base, int width, int height, DrawFunc draw, gconstpointer data, GError **error)
{
  g_autofree char *svg_path = g_strconcat (base, ".svg", NULL);
  g_autofree char *png_path = g_strconcat (base, ".png", NULL);
  g_autoptr(GByteArray) svg = g_byte_array_new ();
  g_autoptr(GByteArray) png = g_byte_array_new ();
  g_autoptr(GBytes) svg_bytes = NULL, png_bytes = NULL;
  g_autoptr(WkpOutput) out = NULL;
  cairo_surface_t *surface;
  cairo_status_t status;
  cairo_t *cr;

  if (!wkp_check_output_path (svg_path, error) || !wkp_check_output_path (png_path, error))
    return FALSE;

  surface = cairo_svg_surface_create_for_stream (append_bytes, svg, width, height);
  cr = cairo_create (surface);
  draw (cr, width, height, data);
  status = cairo_status (cr);
  cairo_destroy (cr);
  cairo_surface_finish (surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, WKP_METRICS_ERROR, WKP_ERROR_FAILED, "Cannot draw %s: %s",
                   svg_path, cairo_status_to_string (status));
      return FALSE;
    }

  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);
  cr = cairo_create (surface);
  draw (cr, width, height, data);
  status = cairo_status (cr);
  cairo_destroy (cr);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_write_to_png_stream (surface, append_bytes, png);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, WKP_METRICS_ERROR, WKP_ERROR_FAILED, "Cannot draw %s: %s",
                   png_path, cairo_status_to_string (status));
      return FALSE;
    }

  svg_bytes = g_byte_array_free_to_bytes (g_steal_pointer (&svg));
  png_bytes = g_byte_array_free_to_bytes (g_steal_pointer (&png));
  out = wkp_output_new ();
  return wkp_output_add_bytes (out, svg_path, svg_bytes, error)
         && wkp_output_add_bytes (out, png_path, png_bytes, error)
         && wkp_output_commit (out, error);
}

/* --- helpers ----------------------------------------------------------------- */

static double
nice_step (double range, int target)
{
  double raw, mag, f;
  if (!(range > 0.0))
    return 1.0;
  raw = range / MAX (target, 1);
  mag = pow (10.0, floor (log10 (raw)));
  f = raw / mag;
  if (f < 1.5)
    return mag;
  if (f < 3.5)
    return 2.0 * mag;
  if (f < 7.5)
    return 5.0 * mag;
  return 10.0 * mag;
}

static void
format_tick (char *buf, gsize size, double v, double step)
{
  int decimals = step >= 1.0 ? 0 : (int) ceil (-log10 (step) - 1e-9);
  if (fabs (v) < step * 1e-6)
    v = 0.0;
  g_snprintf (buf, size, "%.*f", CLAMP (decimals, 0, 6), v);
}

typedef enum { ALIGN_LEFT, ALIGN_CENTER, ALIGN_RIGHT } Align;

static void
text (cairo_t *cr, double x, double y, Align align, double vcenter, const char *s)
{
  cairo_text_extents_t ext;
  cairo_text_extents (cr, s, &ext);
  if (align == ALIGN_CENTER)
    x -= ext.x_advance / 2.0;
  else if (align == ALIGN_RIGHT)
    x -= ext.x_advance;
  if (vcenter != 0.0)
    y += -(ext.y_bearing + ext.height / 2.0);
  cairo_move_to (cr, x, y);
  cairo_show_text (cr, s);
}

/* @s shortened from the left with an ellipsis until it fits @max_w. */
static char *
fit_text (cairo_t *cr, const char *s, double max_w)
{
  cairo_text_extents_t ext;
  glong len = g_utf8_strlen (s, -1);
  cairo_text_extents (cr, s, &ext);
  if (ext.x_advance <= max_w)
    return g_strdup (s);
  for (glong cut = 1; cut < len; cut++)
    {
      char *t = g_strconcat ("…", g_utf8_offset_to_pointer (s, cut), NULL);
      cairo_text_extents (cr, t, &ext);
      if (ext.x_advance <= max_w)
        return t;
      g_free (t);
    }
  return g_strdup ("…");
}

static void
title_text (cairo_t *cr, double x, double y, double max_w, const char *s)
{
  g_autofree char *t = fit_text (cr, s, max_w);
  text (cr, x, y, ALIGN_LEFT, 0.0, t);
}

static void
font (cairo_t *cr, double size, gboolean bold)
{
  cairo_select_font_face (cr, FONT, CAIRO_FONT_SLANT_NORMAL,
                          bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, size);
}

static char *
short_label (const char *label)
{
  gsize len = g_utf8_strlen (label, -1);
  if (len <= 48)
    return g_strdup (label);
  {
    g_autofree char *tail = g_utf8_substring (label, len - 45, len);
    return g_strconcat ("…", tail, NULL);
  }
}

/* Legend entries laid out left to right, wrapping; returns the height used. */
static double
legend (cairo_t *cr, double x0, double y0, double max_w, const char * const *labels, const int *colours,
        const gboolean *lines, int n, gboolean draw)
{
  double x = x0, y = y0, row_h = 20.0;
  font (cr, 13, FALSE);
  for (int i = 0; i < n; i++)
    {
      g_autofree char *label = short_label (labels[i]);
      cairo_text_extents_t ext;
      double w;
      cairo_text_extents (cr, label, &ext);
      w = 28.0 + ext.x_advance + 22.0;
      if (x > x0 && x + w > x0 + max_w)
        {
          x = x0;
          y += row_h;
        }
      if (draw)
        {
          if (colours[i] == -2)
            cairo_set_source_rgb (cr, 0.85, 0.85, 0.85);
          else if (colours[i] < 0)
            cairo_set_source_rgb (cr, 0, 0, 0);
          else
            set_colour (cr, colours[i]);
          if (lines[i])
            {
              cairo_set_line_width (cr, colours[i] < 0 ? 2.5 : 2.0);
              cairo_move_to (cr, x, y + row_h / 2);
              cairo_line_to (cr, x + 22, y + row_h / 2);
              cairo_stroke (cr);
            }
          else
            {
              cairo_rectangle (cr, x + 4, y + 4, 14, row_h - 8);
              cairo_fill (cr);
            }
          cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
          text (cr, x + 28, y + row_h / 2, ALIGN_LEFT, 1.0, label);
        }
      x += w;
    }
  return y - y0 + row_h;
}

/* --- aperture over time ------------------------------------------------------ */

typedef struct {
  const char *title;
  WkpRational fps;
  gint64 n;
  const double *ref;
  const char * const *labels;
  const double * const *series;
  int n_series;
  const int *colours;   /* palette index per series, or NULL: the series' index */
} ApertureData;

static void
draw_line (cairo_t *cr, const double *v, gint64 n, double fps, double x0, double px_per_s,
           double y_base, double y0, double px_per_unit)
{
  gboolean pen = FALSE;
  for (gint64 i = 0; i < n; i++)
    {
      double x, y;
      if (!isfinite (v[i]))
        {
          pen = FALSE;
          continue;
        }
      x = x0 + ((double) i + 0.5) / fps * px_per_s;
      y = y_base - (v[i] - y0) * px_per_unit;
      if (pen)
        cairo_line_to (cr, x, y);
      else
        {
          cairo_move_to (cr, x, y);
          /* a lone point still shows as a short dash */
          if (i + 1 >= n || !isfinite (v[i + 1]))
            cairo_line_to (cr, x + 1.5, y);
        }
      pen = TRUE;
    }
  cairo_stroke (cr);
}

static void
draw_aperture (cairo_t *cr, double w, double h, gconstpointer user_data)
{
  const ApertureData *d = user_data;
  double fps = wkp_rational_to_double (d->fps);
  double duration = d->n / fps;
  double lo = INFINITY, hi = -INFINITY, ystep, xstep, left = 78, right = 24, top, bottom = 62;
  double pw, ph, px_per_s, px_per_unit;
  g_autofree const char **labels = g_new0 (const char *, d->n_series + 3);
  g_autofree int *colours = g_new0 (int, d->n_series + 2);
  g_autofree gboolean *lines = g_new0 (gboolean, d->n_series + 2);
  int n_legend = d->n_series + 1;
  gboolean gaps = FALSE;
  char buf[64];

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);

  for (int s = -1; s < d->n_series; s++)
    {
      const double *v = s < 0 ? d->ref : d->series[s];
      for (gint64 i = 0; i < d->n; i++)
        if (isfinite (v[i]))
          {
            lo = MIN (lo, v[i]);
            hi = MAX (hi, v[i]);
          }
    }
  if (!isfinite (lo))
    {
      lo = 0.0;
      hi = 1.0;
    }
  if (lo >= 0.0)
    lo = 0.0;
  if (hi - lo < 1e-6)
    hi = lo + 0.1;
  ystep = nice_step (hi - lo, 6);
  lo = floor (lo / ystep) * ystep;
  hi = ceil (hi / ystep - 1e-9) * ystep;
  if (!(duration > 0.0))
    duration = 1.0;
  xstep = nice_step (duration, 12);

  /* title and legend */
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  font (cr, 17, TRUE);
  title_text (cr, left, 28, w - left - right, d->title);
  labels[0] = "reference (extracted landmarks)";
  colours[0] = -1;
  lines[0] = TRUE;
  for (int s = 0; s < d->n_series; s++)
    {
      labels[s + 1] = d->labels[s];
      colours[s + 1] = d->colours != NULL ? d->colours[s] : s;
      lines[s + 1] = TRUE;
    }
  for (gint64 i = 0; i < d->n && !gaps; i++)
    gaps = !isfinite (d->ref[i]);
  if (gaps)
    {
      labels[n_legend] = "no reference face (frames excluded)";
      colours[n_legend] = -2;
      lines[n_legend] = FALSE;
      n_legend++;
    }
  top = 44 + legend (cr, left, 40, w - left - right, labels, colours, lines, n_legend, TRUE) + 10;

  pw = w - left - right;
  ph = h - top - bottom;
  px_per_s = pw / duration;
  px_per_unit = ph / (hi - lo);

  /* frames without a reference face */
  cairo_set_source_rgb (cr, 0.85, 0.85, 0.85);
  for (gint64 i = 0; i < d->n; i++)
    if (!isfinite (d->ref[i]))
      {
        gint64 j = i;
        while (j < d->n && !isfinite (d->ref[j]))
          j++;
        cairo_rectangle (cr, left + (double) i / fps * px_per_s, top, (double) (j - i) / fps * px_per_s, ph);
        i = j;
      }
  cairo_fill (cr);

  /* grid and axes */
  font (cr, 12, FALSE);
  cairo_set_line_width (cr, 1.0);
  for (double v = lo; v <= hi + ystep * 1e-6; v += ystep)
    {
      double y = top + ph - (v - lo) * px_per_unit;
      cairo_set_source_rgb (cr, 0.88, 0.88, 0.88);
      cairo_move_to (cr, left, y);
      cairo_line_to (cr, left + pw, y);
      cairo_stroke (cr);
      cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
      format_tick (buf, sizeof buf, v, ystep);
      text (cr, left - 6, y, ALIGN_RIGHT, 1.0, buf);
    }
  for (double t = 0.0; t <= duration + xstep * 1e-6; t += xstep)
    {
      double x = left + t * px_per_s;
      cairo_set_source_rgb (cr, 0.92, 0.92, 0.92);
      cairo_move_to (cr, x, top);
      cairo_line_to (cr, x, top + ph);
      cairo_stroke (cr);
      cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
      format_tick (buf, sizeof buf, t, xstep);
      text (cr, x, top + ph + 18, ALIGN_CENTER, 0.0, buf);
    }
  cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
  cairo_rectangle (cr, left, top, pw, ph);
  cairo_stroke (cr);
  font (cr, 13, FALSE);
  text (cr, left + pw / 2, h - 16, ALIGN_CENTER, 0.0, "time (s)");
  cairo_save (cr);
  cairo_translate (cr, 20, top + ph / 2);
  cairo_rotate (cr, -G_PI / 2);
  text (cr, 0, 0, ALIGN_CENTER, 0.0, "inner-lip aperture (× inter-ocular distance)");
  cairo_restore (cr);

  /* data, clipped to the plot area */
  cairo_save (cr);
  cairo_rectangle (cr, left, top, pw, ph);
  cairo_clip (cr);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  for (int s = 0; s < d->n_series; s++)
    {
      set_colour (cr, d->colours != NULL ? d->colours[s] : s);
      cairo_set_line_width (cr, 1.8);
      draw_line (cr, d->series[s], d->n, fps, left, px_per_s, top + ph, lo, px_per_unit);
    }
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_set_line_width (cr, 2.4);
  draw_line (cr, d->ref, d->n, fps, left, px_per_s, top + ph, lo, px_per_unit);
  cairo_restore (cr);
}

gboolean
wkp_plot_aperture (const char *base, const char *title, WkpRational fps, gint64 n_frames,
                   const double *reference, const char * const *labels,
                   const double * const *series, int n_series, const int *colours, GError **error)
{
  ApertureData d = { title, fps, n_frames, reference, labels, series, n_series, colours };
  g_return_val_if_fail (base != NULL && title != NULL && n_frames >= 0 && n_series >= 0, FALSE);
  g_return_val_if_fail (n_frames == 0 || reference != NULL, FALSE);
  if (!wkp_rational_is_valid (fps))
    {
      g_set_error (error, WKP_METRICS_ERROR, WKP_ERROR_INVALID, "Cannot plot %s: invalid frame rate", base);
      return FALSE;
    }
  return render (base, 1100, 440, draw_aperture, &d, error);
}

/* --- summary bars -------------------------------------------------------------- */

typedef struct {
  const char *title;
  const char *note;
  const WkpPlotMetric *metrics;
  int n_metrics;
  const char * const *models;
  int n_models;
  const double *values;
  const double *lower;
  const double *upper;
  const int *colours;   /* palette index per model, or NULL: the model's index */
  int cols, rows;
} BarsData;

static void
draw_bars (cairo_t *cr, double w, double h, gconstpointer user_data)
{
  const BarsData *d = user_data;
  g_autofree int *colours = g_new0 (int, MAX (d->n_models, 1));
  g_autofree gboolean *lines = g_new0 (gboolean, MAX (d->n_models, 1));
  double top, panel_w, panel_h, margin = 20;
  char buf[64];

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  font (cr, 17, TRUE);
  title_text (cr, margin, 28, w - 2 * margin, d->title);
  top = 40;
  if (d->note != NULL)
    {
      g_auto(GStrv) lines_of_note = g_strsplit (d->note, "\n", -1);
      font (cr, 12, FALSE);
      cairo_set_source_rgb (cr, 0.35, 0.35, 0.35);
      for (int i = 0; lines_of_note[i] != NULL; i++)
        title_text (cr, margin, 50 + 18 * i, w - 2 * margin, lines_of_note[i]);
      top = 60 + 18 * (g_strv_length (lines_of_note) - 1);
    }
  for (int i = 0; i < d->n_models; i++)
    colours[i] = d->colours != NULL ? d->colours[i] : i;
  top += 4 + legend (cr, margin, top, w - 2 * margin, d->models, colours, lines, d->n_models, TRUE) + 8;

  panel_w = (w - margin) / d->cols;
  panel_h = (h - top) / d->rows;

  for (int m = 0; m < d->n_metrics; m++)
    {
      const WkpPlotMetric *metric = &d->metrics[m];
      double px = margin + (m % d->cols) * panel_w, py = top + (m / d->cols) * panel_h;
      double left = px + 58, right = px + panel_w - margin, ptop = py + 44, pbottom = py + panel_h - 24;
      double lo = 0.0, hi = 0.0, step, scale, slot, best = NAN;
      gboolean any = FALSE;

      for (int i = 0; i < d->n_models; i++)
        {
          double v = d->values[i * d->n_metrics + m];
          if (!isfinite (v))
            continue;
          any = TRUE;
          lo = MIN (lo, v);
          hi = MAX (hi, v);
          if (d->lower != NULL && isfinite (d->lower[i * d->n_metrics + m]))
            lo = MIN (lo, d->lower[i * d->n_metrics + m]);
          if (d->upper != NULL && isfinite (d->upper[i * d->n_metrics + m]))
            hi = MAX (hi, d->upper[i * d->n_metrics + m]);
          if (!isfinite (best) || (metric->higher_is_better ? v > best : v < best))
            best = v;
        }
      if (hi - lo < 1e-9)
        hi = lo + 1.0;
      step = nice_step (hi - lo, 4);
      lo = floor (lo / step + 1e-9) * step;
      hi = ceil (hi / step - 1e-9) * step;
      if (hi - lo < step * 0.5)
        hi = lo + step;
      /* head room for value labels */
      hi += (hi - lo) * 0.12;
      scale = (pbottom - ptop) / (hi - lo);

      cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
      font (cr, 14, TRUE);
      {
        g_autofree char *head = metric->unit != NULL && *metric->unit != '\0'
                                ? g_strdup_printf ("%s (%s)", metric->name, metric->unit)
                                : g_strdup (metric->name);
        text (cr, px + 8, py + 16, ALIGN_LEFT, 0.0, head);
      }
      font (cr, 12, FALSE);
      cairo_set_source_rgb (cr, 0.35, 0.35, 0.35);
      text (cr, px + 8, py + 33, ALIGN_LEFT, 0.0,
            metric->higher_is_better ? "higher is better" : "lower is better");

      cairo_set_line_width (cr, 1.0);
      font (cr, 11, FALSE);
      for (double v = lo; v <= hi + step * 1e-6; v += step)
        {
          double y = pbottom - (v - lo) * scale;
          if (y < ptop - 1)
            break;
          cairo_set_source_rgb (cr, 0.9, 0.9, 0.9);
          cairo_move_to (cr, left, y);
          cairo_line_to (cr, right, y);
          cairo_stroke (cr);
          cairo_set_source_rgb (cr, 0.25, 0.25, 0.25);
          format_tick (buf, sizeof buf, v, step);
          text (cr, left - 5, y, ALIGN_RIGHT, 1.0, buf);
        }
      /* zero line and axis */
      cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
      cairo_move_to (cr, left, pbottom - (0.0 - lo) * scale);
      cairo_line_to (cr, right, pbottom - (0.0 - lo) * scale);
      cairo_move_to (cr, left, ptop);
      cairo_line_to (cr, left, pbottom);
      cairo_stroke (cr);

      slot = (right - left) / MAX (d->n_models, 1);
      for (int i = 0; i < d->n_models; i++)
        {
          double v = d->values[i * d->n_metrics + m];
          double x = left + i * slot + slot * 0.15, bw = slot * 0.7, y0 = pbottom - (0.0 - lo) * scale;
          if (!isfinite (v))
            {
              cairo_set_source_rgb (cr, 0.45, 0.45, 0.45);
              font (cr, 11, FALSE);
              text (cr, x + bw / 2, y0 - 6, ALIGN_CENTER, 0.0, "n/a");
              continue;
            }
          set_colour (cr, d->colours != NULL ? d->colours[i] : i);
          cairo_rectangle (cr, x, MIN (y0, y0 - v * scale), bw, fabs (v * scale));
          cairo_fill (cr);
          cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
          font (cr, 11, v == best);
          g_snprintf (buf, sizeof buf, "%.3f%s", v, v == best && d->n_models > 1 ? " *" : "");
          if (d->lower != NULL && d->upper != NULL && isfinite (d->lower[i * d->n_metrics + m])
              && isfinite (d->upper[i * d->n_metrics + m]))
            {
              double ylo = y0 - (d->lower[i * d->n_metrics + m]) * scale;
              double yhi = y0 - (d->upper[i * d->n_metrics + m]) * scale;
              double cx = x + bw / 2;
              cairo_set_line_width (cr, 1.5);
              cairo_move_to (cr, cx, ylo);
              cairo_line_to (cr, cx, yhi);
              cairo_move_to (cr, cx - 6, ylo);
              cairo_line_to (cr, cx + 6, ylo);
              cairo_move_to (cr, cx - 6, yhi);
              cairo_line_to (cr, cx + 6, yhi);
              cairo_stroke (cr);
              /* value beside the whisker, so that neither hides the other */
              text (cr, cx + 9, y0 - v * scale - 4, ALIGN_LEFT, 0.0, buf);
              continue;
            }
          text (cr, x + bw / 2, v >= 0 ? y0 - v * scale - 4 : y0 - v * scale + 13, ALIGN_CENTER, 0.0, buf);
        }
      if (!any)
        {
          cairo_set_source_rgb (cr, 0.45, 0.45, 0.45);
          font (cr, 12, FALSE);
          text (cr, (left + right) / 2, (ptop + pbottom) / 2, ALIGN_CENTER, 1.0, "no data");
        }
    }
}

gboolean
wkp_plot_bars (const char *base, const char *title, const char *note,
               const WkpPlotMetric *metrics, int n_metrics,
               const char * const *models, int n_models,
               const double *values, const double *lower, const double *upper,
               const int *colours, GError **error)
{
  BarsData d = { title, note, metrics, n_metrics, models, n_models, values, lower, upper, colours, 0, 0 };
  int width;
  g_return_val_if_fail (base != NULL && title != NULL && n_metrics > 0 && n_models >= 0, FALSE);
  d.cols = MIN (n_metrics, 3);
  d.rows = (n_metrics + d.cols - 1) / d.cols;
  width = MAX (1100, d.cols * (120 + 70 * n_models));
  {
    int note_lines = 0;
    for (const char *c = note; c != NULL && *c; c++)
      note_lines += *c == '\n';
    note_lines += note != NULL ? 1 : 0;
    return render (base, width, 90 + 20 * note_lines + d.rows * 300 + 20 * ((n_models + 3) / 4), draw_bars, &d,
                   error);
  }
}

void
wkp_plot_release_caches (void)
{
  cairo_debug_reset_static_data ();
  FcFini ();
}
