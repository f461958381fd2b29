#include "wkp-mouth-view.h"
#include "wkp-draw.h"
#include "wkp-face-shape.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

struct _WkpMouthView
{
  GtkWidget parent_instance;
  float     predicted[WKP_VIEW_N_POINTS * 2];
  float     extracted[WKP_VIEW_N_POINTS * 2];
  float     compared[WKP_VIEW_N_POINTS * 2];
  gboolean  has_compared;
  gboolean  legend_compared;
  gboolean  has_predicted;
  gboolean  has_extracted;
  gboolean  legend_extracted;  /* which series the clip has: only those are in the legend */
  gboolean  legend_predicted;
  double    x0, y0, x1, y1;
  char     *note;
};

G_DEFINE_FINAL_TYPE (WkpMouthView, wkp_mouth_view, GTK_TYPE_WIDGET)

/* GNOME palette: orange for the prediction, blue for the measurement. */
static const double predicted_rgb[3] = { 0.90, 0.38, 0.0 };
static const double extracted_rgb[3] = { 0.11, 0.44, 0.85 };
static const double compared_rgb[3] = { 0.57, 0.25, 0.67 };

/* line styles: solid (extracted), dashed (predicted), dotted (compared) */
static const double dashes[3][2] = { { 0, 0 }, { 5.0, 3.0 }, { 1.5, 2.5 } };

static void
draw_mouth (cairo_t *cr, const float *pts, double scale, double ox, double oy,
            const double rgb[3], int style)
{
  gboolean dashed = style != 0;
  cairo_new_path (cr);
  wkp_face_shape_path (cr, pts, scale, ox, oy, TRUE);
  cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
  cairo_set_line_width (cr, 2.0);
  cairo_set_dash (cr, dashes[style], dashed ? 2 : 0, 0);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  for (int i = WKP_VIEW_MOUTH_FIRST; i < WKP_VIEW_N_POINTS; i++)
    {
      double x = pts[2 * i], y = pts[2 * i + 1];
      if (isnan (x) || isnan (y))
        continue;
      if (dashed)
        cairo_rectangle (cr, x * scale + ox - 2.5, y * scale + oy - 2.5, 5, 5);
      else
        cairo_arc (cr, x * scale + ox, y * scale + oy, 2.8, 0, 2 * G_PI);
      cairo_fill (cr);
    }
}

double
wkp_mouth_scale_bar_units (double px_per_unit, double min_px)
{
  static const double steps[] = { 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0 };
  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    if (steps[i] * px_per_unit >= min_px)
      return steps[i];
  return steps[G_N_ELEMENTS (steps) - 1];
}

/* Small, faint text for the midline and scale labels; returns its width. */
static int
append_small_text (GtkWidget *widget, GtkSnapshot *snapshot, const char *text, double x, double y,
                   gboolean right_aligned, const GdkRGBA *color)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (widget, text);
  PangoAttrList *attrs = pango_attr_list_new ();
  int tw;
  pango_attr_list_insert (attrs, pango_attr_scale_new (PANGO_SCALE_SMALL));
  pango_layout_set_attributes (layout, attrs);
  pango_attr_list_unref (attrs);
  pango_layout_get_pixel_size (layout, &tw, NULL);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (right_aligned ? x - tw : x, y));
  gtk_snapshot_append_layout (snapshot, layout, color);
  gtk_snapshot_restore (snapshot);
  g_object_unref (layout);
  return tw;
}

/* The note's line height, and how many lines it has (the scale bar goes
 * above them). */
#define NOTE_LINE 18

static int
note_lines (WkpMouthView *self)
{
  int n = 1;
  for (const char *p = self->note != NULL ? self->note : ""; *p != '\0'; p++)
    n += *p == '\n';
  return n;
}

/* The face midline's label at its top, and a scale bar in inter-ocular
 * distances at the bottom right (above the note), so offsets can be judged. */
static void
snapshot_guides (WkpMouthView *self, GtkSnapshot *snapshot, double w, double h, double top,
                 double scale, double ox)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GdkRGBA faint = { 0.45, 0.45, 0.48, 1.0 };
  double units = wkp_mouth_scale_bar_units (scale, 40);
  double len = floor (units * scale + 0.5);
  double x1 = w - 10, x0 = x1 - len, y = h - 30;
  g_autofree char *num = g_strdup_printf ("%g", units);
  g_autofree char *label = NULL;

  if (ox >= 0 && ox <= w)
    /* TRANSLATORS: the vertical line through the middle of the face (x = 0) */
    append_small_text (widget, snapshot, _("midline"), ox + 4, top + 2, FALSE, &faint);

  /* a panel too short for the bar beside the mouth (a small window) shows
   * none: its label lay over the lips */
  if (len > w - 20 || h < 170)
    return;
  /* the bar with end ticks */
  gtk_snapshot_append_color (snapshot, &faint, &GRAPHENE_RECT_INIT (x0, y, len, 1.5));
  gtk_snapshot_append_color (snapshot, &faint, &GRAPHENE_RECT_INIT (x0, y - 3, 1.5, 7));
  gtk_snapshot_append_color (snapshot, &faint, &GRAPHENE_RECT_INIT (x1 - 1.5, y - 3, 1.5, 7));
  /* TRANSLATORS: the length of the scale bar, e.g. "0.1 × inter-ocular" (a
   * tenth of the distance between the outer eye corners) */
  label = g_strdup_printf (_("%s × inter-ocular"), num);
  append_small_text (widget, snapshot, label, x1, y - 18, TRUE, &faint);
}

static void
wkp_mouth_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  WkpMouthView *self = WKP_MOUTH_VIEW (widget);
  double w = gtk_widget_get_width (widget);
  double h = gtk_widget_get_height (widget);
  GdkRGBA bg = { 0.98, 0.98, 0.98, 1.0 };
  GdkRGBA fg = { 0.2, 0.2, 0.2, 1.0 };
  GdkRGBA grid = { 0.85, 0.85, 0.87, 1.0 };
  double bw = self->x1 - self->x0, bh = self->y1 - self->y0;
  double legend_h = 26;
  double scale, ox, oy;
  cairo_t *cr;

  gtk_snapshot_append_color (snapshot, &bg, &GRAPHENE_RECT_INIT (0, 0, w, h));
  if (bw <= 0 || bh <= 0 || w < 10 || h < legend_h + 10)
    return;
  /* the mouths fit between the legend and the note (at 900 x 600 the note,
   * "Model: …", was written over the drawing) */
  {
    double note_h = self->note != NULL ? NOTE_LINE * note_lines (self) + 8 : 0;
    double avail = MAX (h - legend_h - note_h - 16, 8);
    scale = MIN ((w - 16) / bw, avail / bh);
    ox = (w - bw * scale) / 2 - self->x0 * scale;
    oy = legend_h + (MAX (h - legend_h - note_h, 8) - bh * scale) / 2 - self->y0 * scale;
  }

  /* the face midline (x = 0), labelled, and a scale bar */
  gtk_snapshot_append_color (snapshot, &grid,
                             &GRAPHENE_RECT_INIT (ox + 0 * scale - 0.5, legend_h, 1, h - legend_h));
  snapshot_guides (self, snapshot, w, h - NOTE_LINE * (note_lines (self) - 1), legend_h, scale, ox);

  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  if (self->has_extracted)
    draw_mouth (cr, self->extracted, scale, ox, oy, extracted_rgb, 0);
  if (self->has_compared)
    draw_mouth (cr, self->compared, scale, ox, oy, compared_rgb, 2);
  if (self->has_predicted)
    draw_mouth (cr, self->predicted, scale, ox, oy, predicted_rgb, 1);

  /* legend swatches: extracted on the left, predicted on the right half
   * (thirds when a second model is compared) */
  gboolean three = self->legend_compared || self->has_compared;
  double slot = three ? w / 3 : w / 2;
  cairo_set_line_width (cr, 3.0);
  if (self->legend_extracted)
    {
      cairo_set_source_rgb (cr, extracted_rgb[0], extracted_rgb[1], extracted_rgb[2]);
      cairo_move_to (cr, 8, 13);
      cairo_line_to (cr, 30, 13);
      cairo_stroke (cr);
    }
  if (self->legend_predicted)
    {
      double lx = slot + 4;
      cairo_set_source_rgb (cr, predicted_rgb[0], predicted_rgb[1], predicted_rgb[2]);
      cairo_set_dash (cr, dashes[1], 2, 0);
      cairo_move_to (cr, lx, 13);
      cairo_line_to (cr, lx + 22, 13);
      cairo_stroke (cr);
    }
  if (three)
    {
      double lx = 2 * slot + 4;
      cairo_set_source_rgb (cr, compared_rgb[0], compared_rgb[1], compared_rgb[2]);
      cairo_set_dash (cr, dashes[2], 2, 0);
      cairo_move_to (cr, lx, 13);
      cairo_line_to (cr, lx + 22, 13);
      cairo_stroke (cr);
    }
  cairo_destroy (cr);

  if (self->legend_extracted)
    wkp_snapshot_append_text (widget, snapshot, _("Extracted"), 36, 4, &fg);
  if (self->legend_predicted)
    wkp_snapshot_append_text (widget, snapshot, _("Predicted"), slot + 32, 4, &fg);
  if (three)
    wkp_snapshot_append_text (widget, snapshot, _("Compared"), 2 * slot + 32, 4, &fg);
  /* the note, a line each, ends in "…" when the panel is narrow (its
   * tooltip has it all) */
  if (self->note != NULL)
    {
      g_auto(GStrv) lines = g_strsplit (self->note, "\n", -1);
      int n = (int) g_strv_length (lines);
      for (int i = 0; i < n; i++)
        wkp_snapshot_append_text_clipped (widget, snapshot, lines[i], 8, h - 22 - NOTE_LINE * (n - 1 - i),
                                          MAX (w - 16, 1), &fg);
    }
}

static void
wkp_mouth_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                        int *minimum, int *natural, int *min_baseline, int *nat_baseline)
{
  *minimum = 120;
  *natural = 240;
}

static void
wkp_mouth_view_finalize (GObject *object)
{
  g_free (WKP_MOUTH_VIEW (object)->note);
  G_OBJECT_CLASS (wkp_mouth_view_parent_class)->finalize (object);
}

static void
wkp_mouth_view_class_init (WkpMouthViewClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->finalize = wkp_mouth_view_finalize;
  widget_class->snapshot = wkp_mouth_view_snapshot;
  widget_class->measure = wkp_mouth_view_measure;
  gtk_widget_class_set_css_name (widget_class, "mouthview");
}

static void
wkp_mouth_view_init (WkpMouthView *self)
{
  self->x0 = -0.45;
  self->x1 = 0.45;
  self->y0 = 0.55;
  self->y1 = 1.35;
  self->legend_extracted = self->legend_predicted = TRUE;
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
}

GtkWidget *
wkp_mouth_view_new (void)
{
  return g_object_new (WKP_TYPE_MOUTH_VIEW, NULL);
}

static void
set_points (WkpMouthView *self, float *dst, gboolean *has, const float *points)
{
  if (points == NULL && !*has)
    return;
  if (points != NULL && *has && memcmp (dst, points, sizeof (float) * WKP_VIEW_N_POINTS * 2) == 0)
    return;
  *has = points != NULL;
  if (points != NULL)
    memcpy (dst, points, sizeof (float) * WKP_VIEW_N_POINTS * 2);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
wkp_mouth_view_set_predicted (WkpMouthView *self, const float *points)
{
  g_return_if_fail (WKP_IS_MOUTH_VIEW (self));
  set_points (self, self->predicted, &self->has_predicted, points);
}

void
wkp_mouth_view_set_extracted (WkpMouthView *self, const float *points)
{
  g_return_if_fail (WKP_IS_MOUTH_VIEW (self));
  set_points (self, self->extracted, &self->has_extracted, points);
}

void
wkp_mouth_view_set_compared (WkpMouthView *self, const float *points)
{
  g_return_if_fail (WKP_IS_MOUTH_VIEW (self));
  set_points (self, self->compared, &self->has_compared, points);
}

void
wkp_mouth_view_set_compared_legend (WkpMouthView *self, gboolean compared)
{
  g_return_if_fail (WKP_IS_MOUTH_VIEW (self));
  if (self->legend_compared == !!compared)
    return;
  self->legend_compared = !!compared;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
wkp_mouth_view_get_compared_legend (WkpMouthView *self)
{
  g_return_val_if_fail (WKP_IS_MOUTH_VIEW (self), FALSE);
  return self->legend_compared || self->has_compared;
}

void
wkp_mouth_view_set_legend (WkpMouthView *self, gboolean extracted, gboolean predicted)
{
  g_return_if_fail (WKP_IS_MOUTH_VIEW (self));
  if (self->legend_extracted == !!extracted && self->legend_predicted == !!predicted)
    return;
  self->legend_extracted = !!extracted;
  self->legend_predicted = !!predicted;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
wkp_mouth_view_get_legend (WkpMouthView *self, gboolean *extracted, gboolean *predicted)
{
  g_return_if_fail (WKP_IS_MOUTH_VIEW (self));
  if (extracted)
    *extracted = self->legend_extracted;
  if (predicted)
    *predicted = self->legend_predicted;
}

void
wkp_mouth_view_set_bounds (WkpMouthView *self, double x0, double y0, double x1, double y1)
{
  g_return_if_fail (WKP_IS_MOUTH_VIEW (self));
  self->x0 = x0;
  self->y0 = y0;
  self->x1 = x1;
  self->y1 = y1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

const char *
wkp_mouth_view_get_note (WkpMouthView *self)
{
  g_return_val_if_fail (WKP_IS_MOUTH_VIEW (self), NULL);
  return self->note;
}

void
wkp_mouth_view_set_note (WkpMouthView *self, const char *note)
{
  g_return_if_fail (WKP_IS_MOUTH_VIEW (self));
  if (g_strcmp0 (note, self->note) == 0)
    return;
  g_free (self->note);
  self->note = g_strdup (note);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), note);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
