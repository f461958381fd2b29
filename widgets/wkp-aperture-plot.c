#include "wkp-aperture-plot.h"
#include "wkp-draw.h"

#include <glib/gi18n-lib.h>
#include <math.h>

typedef struct
{
  GBytes *values;
  gint64  n_frames;
  int     fps_num;
  int     fps_den;
  double  gain, offset;   /* drawn: gain * value + offset (levels matched) */
} Series;

struct _WkpAperturePlot
{
  WkpTimeView   parent_instance;
  Series        series[WKP_APERTURE_N_SERIES];
  double        y_max;
  double        y_min;          /* 0, or below it when matched curves dip under 0 */
  gboolean      match_levels;
  /* cached curves for (width, height, range) */
  GskRenderNode *cache;
  int           cache_w;
  int           cache_h;
};

G_DEFINE_FINAL_TYPE (WkpAperturePlot, wkp_aperture_plot, WKP_TYPE_TIME_VIEW)

enum { PROP_0, PROP_MATCH_LEVELS, N_PROPS };
static GParamSpec *props[N_PROPS];

static gboolean levels_matched (WkpAperturePlot *self);
static void     update_levels  (WkpAperturePlot *self);

static const double series_rgb[WKP_APERTURE_N_SERIES][3] = {
  { 0.11, 0.44, 0.85 },   /* extracted: blue */
  { 0.90, 0.38, 0.0 },    /* predicted: orange */
  { 0.57, 0.25, 0.67 },   /* compared: purple */
};

#define MARGIN_TOP 22.0
#define MARGIN_BOTTOM 4.0
#define LABEL_PAD 3.0      /* around a y label, inside its box */
#define LABEL_LEFT 2.0     /* box from the left edge (clear of a playhead at 0) */
#define MAX_LABELS 16

static void
drop_cache (WkpAperturePlot *self)
{
  g_clear_pointer (&self->cache, gsk_render_node_unref);
}

static void
range_changed (WkpTimeView *view)
{
  drop_cache (WKP_APERTURE_PLOT (view));
}

static double
value_to_y (WkpAperturePlot *self, double v, double h)
{
  double ph = h - MARGIN_TOP - MARGIN_BOTTOM;
  return MARGIN_TOP + ph * (self->y_max - v) / (self->y_max - self->y_min);
}

double
wkp_aperture_label_step (double y_max, double plot_height, double min_px)
{
  static const double mantissa[] = { 1.0, 2.0, 5.0 };
  double step = 0.1;

  if (!(y_max > 0) || !(plot_height > 0))
    return y_max > 0 ? y_max : 0.1;
  /* 0.1, 0.2, 0.5, 1, 2, 5, ...: the finest that leaves @min_px between
   * labels; a step above y_max labels 0 alone */
  for (int decade = 0; decade < 12; decade++)
    for (guint i = 0; i < G_N_ELEMENTS (mantissa); i++)
      {
        step = 0.1 * mantissa[i] * pow (10.0, decade);
        if (step * plot_height / y_max >= min_px || step > y_max)
          return step;
      }
  return step;
}

/* the labelled step for the current height: one text line apart */
static double
label_step (WkpAperturePlot *self, double h)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), "0.1");
  int lh;
  double ph = h - MARGIN_TOP - MARGIN_BOTTOM;
  pango_layout_get_pixel_size (layout, NULL, &lh);
  g_object_unref (layout);
  /* at most MAX_LABELS, however tall */
  return wkp_aperture_label_step (self->y_max - self->y_min, ph, MAX (lh + 2.0, ph / (MAX_LABELS - 1)));
}

static GskRenderNode *
build_curves (WkpAperturePlot *self, double w, double h)
{
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  WkpTimeMap map;
  cairo_t *cr;

  wkp_time_view_get_map (WKP_TIME_VIEW (self), w, &map);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  /* grid at 0 and every 0.1 of aperture (coarser when that gets too dense;
   * every labelled value has a line) */
  cairo_set_line_width (cr, 1.0);
  cairo_set_source_rgb (cr, 0.86, 0.86, 0.88);
  {
    double ph = h - MARGIN_TOP - MARGIN_BOTTOM;
    double step = 0.1 * ph / (self->y_max - self->y_min) >= 6.0 ? 0.1 : label_step (self, h);
    for (int k = (int) ceil (self->y_min / step - 1e-9); k * step <= self->y_max + 1e-9; k++)
      {
        double y = floor (value_to_y (self, k * step, h)) + 0.5;
        cairo_move_to (cr, 0, y);
        cairo_line_to (cr, w, y);
      }
  }
  cairo_stroke (cr);

  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_width (cr, 1.8);
  for (int s = 0; s < WKP_APERTURE_N_SERIES; s++)
    {
      Series *ser = &self->series[s];
      const float *v;
      gint64 f0, f1;
      gboolean pen = FALSE;

      if (ser->values == NULL || ser->n_frames == 0)
        continue;
      v = g_bytes_get_data (ser->values, NULL);
      f0 = MAX (0, wkp_view_frame_at (map.start_us, ser->fps_num, ser->fps_den) - 1);
      f1 = MIN (ser->n_frames - 1, wkp_view_frame_at (map.end_us, ser->fps_num, ser->fps_den) + 1);
      for (gint64 f = f0; f <= f1; f++)
        {
          /* plot each value at its frame's centre */
          gint64 t0 = wkp_view_frame_start (f, ser->fps_num, ser->fps_den);
          gint64 t1 = wkp_view_frame_start (f + 1, ser->fps_num, ser->fps_den);
          double x = wkp_time_map_to_x (&map, (t0 + t1) / 2);
          if (isnan (v[f]))
            {
              pen = FALSE;
              continue;
            }
          double y = value_to_y (self, ser->gain * v[f] + ser->offset, h);
          if (pen)
            cairo_line_to (cr, x, y);
          else
            cairo_move_to (cr, x, y);
          pen = TRUE;
        }
      cairo_set_source_rgb (cr, series_rgb[s][0], series_rgb[s][1], series_rgb[s][2]);
      /* the mouth view's styles: extracted solid, predicted dashed, compared
       * dotted (the prediction was solid here, as the extracted curve) */
      if (s != WKP_APERTURE_EXTRACTED)
        {
          static const double dash[] = { 5.0, 3.0 }, dots[] = { 1.5, 2.5 };
          cairo_set_dash (cr, s == WKP_APERTURE_PREDICTED ? dash : dots, 2, 0);
        }
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
    }
  cairo_destroy (cr);
  return gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
}

static void
wkp_aperture_plot_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  WkpAperturePlot *self = WKP_APERTURE_PLOT (widget);
  int w = gtk_widget_get_width (widget);
  int h = gtk_widget_get_height (widget);
  GdkRGBA bg = { 1, 1, 1, 1 };
  GdkRGBA fg = { 0.25, 0.25, 0.25, 1 };
  PangoLayout *labels[MAX_LABELS];
  int n_labels = 0;
  double step = label_step (self, h);
  double gutter = 0;

  /* the y labels, 0 included (and below it when matched curves dip under
   * 0), and the width of their column */
  int k0 = (int) ceil (self->y_min / step - 1e-9);
  for (int k = k0; k - k0 < MAX_LABELS && k * step <= self->y_max + 1e-9; k++)
    {
      char text[16];
      int lw;
      if (k == 0)
        g_strlcpy (text, "0", sizeof text);
      else
        g_snprintf (text, sizeof text, step < 1.0 ? "%.1f" : "%.0f", k * step);
      labels[k - k0] = gtk_widget_create_pango_layout (widget, text);
      pango_layout_get_pixel_size (labels[k - k0], &lw, NULL);
      gutter = MAX (gutter, LABEL_LEFT + 2 * LABEL_PAD + lw);
      n_labels++;
    }

  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  gtk_snapshot_append_color (snapshot, &bg, &GRAPHENE_RECT_INIT (0, 0, w, h));
  wkp_time_view_snapshot_selection (WKP_TIME_VIEW (self), snapshot, w, h);

  if (self->cache == NULL || self->cache_w != w || self->cache_h != h)
    {
      drop_cache (self);
      self->cache = build_curves (self, w, h);
      self->cache_w = w;
      self->cache_h = h;
    }
  if (self->cache != NULL)
    gtk_snapshot_append_node (snapshot, self->cache);

  /* the playhead under the legend (it ran through the legend's text) */
  wkp_time_view_snapshot_playhead (WKP_TIME_VIEW (self), snapshot, w, h);

  /* legend: the series there are (an audio-only clip has no extracted
   * curve), right of the y labels, on the plot's background */
  {
    int lh = 0, mw = 0, slots = 0;
    PangoLayout *probe = gtk_widget_create_pango_layout (widget, _("(model curves scaled to the extracted mean and SD)"));
    double end;
    pango_layout_get_pixel_size (probe, &mw, &lh);
    g_object_unref (probe);
    for (int s = 0; s < WKP_APERTURE_N_SERIES; s++)
      slots += self->series[s].values != NULL;
    end = gutter + 8 + slots * 110 + (levels_matched (self) ? mw + 4 : -6);
    if (slots > 0)
      gtk_snapshot_append_color (snapshot, &(GdkRGBA) { 1, 1, 1, 0.9 },
                                 &GRAPHENE_RECT_INIT (gutter + 4, 1, MAX (0, MIN (end, w) - gutter - 4), lh));
  }
  for (int s = 0, slot = 0; s < WKP_APERTURE_N_SERIES; s++)
    {
      GdkRGBA c = { series_rgb[s][0], series_rgb[s][1], series_rgb[s][2], 1 };
      double x = gutter + 8 + slot * 110;
      if (self->series[s].values == NULL)
        continue;
      slot++;
      if (s == WKP_APERTURE_PREDICTED)
        {
          /* dashed like its curve */
          for (int d = 0; d < 2; d++)
            gtk_snapshot_append_color (snapshot, &c, &GRAPHENE_RECT_INIT (x + d * 9, 9, 6, 3));
        }
      else if (s == WKP_APERTURE_COMPARED)
        {
          /* dotted like its curve */
          for (int d = 0; d < 4; d++)
            gtk_snapshot_append_color (snapshot, &c, &GRAPHENE_RECT_INIT (x + d * 4.5, 9, 2, 3));
        }
      else
        gtk_snapshot_append_color (snapshot, &c, &GRAPHENE_RECT_INIT (x, 9, 16, 3));
      wkp_snapshot_append_text (widget, snapshot,
                                s == WKP_APERTURE_EXTRACTED ? _("Extracted")
                                : s == WKP_APERTURE_PREDICTED ? _("Predicted") : _("Compared"),
                                x + 20, 1, &fg);
    }
  if (levels_matched (self))
    {
      int slots = 0;
      for (int s = 0; s < WKP_APERTURE_N_SERIES; s++)
        slots += self->series[s].values != NULL;
      wkp_snapshot_append_text (widget, snapshot, _("(model curves scaled to the extracted mean and SD)"),
                                gutter + 8 + slots * 110, 1, &fg);
    }

  /* y labels at the left, each centred on its grid line in a light box
   * drawn over the curves and the playhead, so that neither runs through the
   * text (display text: the locale's decimal mark). The box covers only the
   * label's own line height; it is nearly opaque, because curves seen faintly
   * through it read as struck-through numbers or as a second, faded state of
   * the data (a screenshot review) */
  for (int k = 0; k < n_labels; k++)
    {
      GdkRGBA box = { 1, 1, 1, 0.9 };
      GdkRGBA grey = { 0.40, 0.40, 0.42, 1 };
      int lw, lh;
      double y;
      pango_layout_get_pixel_size (labels[k], &lw, &lh);
      y = CLAMP (value_to_y (self, (k + k0) * step, h) - lh / 2.0, 0.0, MAX (0.0, h - lh));
      gtk_snapshot_append_color (snapshot, &box,
                                 &GRAPHENE_RECT_INIT (LABEL_LEFT, y, gutter - LABEL_LEFT, lh));
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (gutter - LABEL_PAD - lw, y));
      gtk_snapshot_append_layout (snapshot, labels[k], &grey);
      gtk_snapshot_restore (snapshot);
      g_object_unref (labels[k]);
    }
  gtk_snapshot_pop (snapshot);
}

static void
wkp_aperture_plot_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                           int *minimum, int *natural, int *min_baseline, int *nat_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 100 : 60;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 400 : 120;
}

static void
wkp_aperture_plot_dispose (GObject *object)
{
  WkpAperturePlot *self = WKP_APERTURE_PLOT (object);
  drop_cache (self);
  for (int s = 0; s < WKP_APERTURE_N_SERIES; s++)
    g_clear_pointer (&self->series[s].values, g_bytes_unref);
  G_OBJECT_CLASS (wkp_aperture_plot_parent_class)->dispose (object);
}

static void
wkp_aperture_plot_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  WkpAperturePlot *self = WKP_APERTURE_PLOT (object);
  switch (id)
    {
    case PROP_MATCH_LEVELS:
      g_value_set_boolean (value, self->match_levels);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
wkp_aperture_plot_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  WkpAperturePlot *self = WKP_APERTURE_PLOT (object);
  switch (id)
    {
    case PROP_MATCH_LEVELS:
      wkp_aperture_plot_set_match_levels (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
wkp_aperture_plot_class_init (WkpAperturePlotClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = wkp_aperture_plot_dispose;
  G_OBJECT_CLASS (klass)->get_property = wkp_aperture_plot_get_property;
  G_OBJECT_CLASS (klass)->set_property = wkp_aperture_plot_set_property;
  props[PROP_MATCH_LEVELS] = g_param_spec_boolean ("match-levels", NULL, NULL, FALSE,
                                                   G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (G_OBJECT_CLASS (klass), N_PROPS, props);
  WKP_TIME_VIEW_CLASS (klass)->range_changed = range_changed;
  widget_class->snapshot = wkp_aperture_plot_snapshot;
  widget_class->measure = wkp_aperture_plot_measure;
  gtk_widget_class_set_css_name (widget_class, "apertureplot");
}

static void
wkp_aperture_plot_init (WkpAperturePlot *self)
{
  self->y_max = 0.3;
  for (int s = 0; s < WKP_APERTURE_N_SERIES; s++)
    self->series[s].gain = 1.0;
}

GtkWidget *
wkp_aperture_plot_new (void)
{
  return g_object_new (WKP_TYPE_APERTURE_PLOT, NULL);
}

/* With levels matched, each model's curve is drawn scaled to the extracted
 * curve's mean and standard deviation over the frames where both are known:
 * an identity-removed model predicts motion around the mean face, so its
 * curve sits low and flat under a wide-open speaker's and the timing of the
 * peaks is hard to compare by eye. Pearson r is unchanged by the scaling. */
static gboolean
levels_matched (WkpAperturePlot *self)
{
  return self->match_levels && self->series[WKP_APERTURE_EXTRACTED].values != NULL
         && (self->series[WKP_APERTURE_PREDICTED].gain != 1.0 || self->series[WKP_APERTURE_PREDICTED].offset != 0.0
             || self->series[WKP_APERTURE_COMPARED].gain != 1.0 || self->series[WKP_APERTURE_COMPARED].offset != 0.0);
}

static void
match_series (WkpAperturePlot *self, Series *ser)
{
  const Series *ref = &self->series[WKP_APERTURE_EXTRACTED];
  const float *x, *y;
  double sx = 0, sy = 0, sxx = 0, syy = 0, mx, my, vx, vy;
  gint64 n = 0, m;

  ser->gain = 1.0;
  ser->offset = 0.0;
  if (!self->match_levels || ser->values == NULL || ref->values == NULL || ser == ref)
    return;
  x = g_bytes_get_data (ref->values, NULL);
  y = g_bytes_get_data (ser->values, NULL);
  m = MIN (ref->n_frames, ser->n_frames);
  for (gint64 f = 0; f < m; f++)
    if (isfinite (x[f]) && isfinite (y[f]))
      {
        sx += x[f], sy += y[f], sxx += (double) x[f] * x[f], syy += (double) y[f] * y[f];
        n++;
      }
  if (n < 2)
    return;
  mx = sx / n, my = sy / n;
  vx = sxx / n - mx * mx, vy = syy / n - my * my;
  if (!(vx > 0) || !(vy > 1e-12))
    return;
  ser->gain = sqrt (vx / vy);
  ser->offset = mx - ser->gain * my;
}

static void
update_levels (WkpAperturePlot *self)
{
  double vmax = 0.0, vmin = 0.0;
  for (int s = 0; s < WKP_APERTURE_N_SERIES; s++)
    match_series (self, &self->series[s]);
  /* y axis: 0 .. max over the series as drawn, rounded up to 0.1; below 0
   * too when a matched curve dips under it (it was cut off at the bottom) */
  for (int s = 0; s < WKP_APERTURE_N_SERIES; s++)
    {
      const Series *ser = &self->series[s];
      const float *v = ser->values ? g_bytes_get_data (ser->values, NULL) : NULL;
      for (gint64 i = 0; v != NULL && i < ser->n_frames; i++)
        if (isfinite (v[i]))
          {
            vmax = MAX (vmax, ser->gain * v[i] + ser->offset);
            vmin = MIN (vmin, ser->gain * v[i] + ser->offset);
          }
    }
  self->y_max = MAX (0.1, ceil (vmax * 1.1 * 10.0) / 10.0);
  self->y_min = vmin < 0 ? floor (vmin * 1.1 * 10.0) / 10.0 : 0.0;
  drop_cache (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
wkp_aperture_plot_get_y_range (WkpAperturePlot *self, double *y_min, double *y_max)
{
  g_return_if_fail (WKP_IS_APERTURE_PLOT (self));
  if (y_min != NULL)
    *y_min = self->y_min;
  if (y_max != NULL)
    *y_max = self->y_max;
}

void
wkp_aperture_plot_set_series (WkpAperturePlot *self, WkpApertureSeries series, GBytes *values,
                              gint64 n_frames, int fps_num, int fps_den)
{
  Series *ser;

  g_return_if_fail (WKP_IS_APERTURE_PLOT (self));
  g_return_if_fail (series < WKP_APERTURE_N_SERIES);
  g_return_if_fail (values == NULL || g_bytes_get_size (values) >= (gsize) n_frames * sizeof (float));
  g_return_if_fail (values == NULL || (fps_num > 0 && fps_den > 0));

  ser = &self->series[series];
  g_clear_pointer (&ser->values, g_bytes_unref);
  if (values != NULL)
    ser->values = g_bytes_ref (values);
  ser->n_frames = values != NULL ? n_frames : 0;
  ser->fps_num = fps_num;
  ser->fps_den = fps_den;
  update_levels (self);
}

void
wkp_aperture_plot_set_match_levels (WkpAperturePlot *self, gboolean match)
{
  g_return_if_fail (WKP_IS_APERTURE_PLOT (self));
  if (self->match_levels == !!match)
    return;
  self->match_levels = !!match;
  update_levels (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MATCH_LEVELS]);
}

gboolean
wkp_aperture_plot_get_match_levels (WkpAperturePlot *self)
{
  g_return_val_if_fail (WKP_IS_APERTURE_PLOT (self), FALSE);
  return self->match_levels;
}

double
wkp_aperture_plot_drawn_value (WkpAperturePlot *self, WkpApertureSeries series, gint64 frame)
{
  const Series *ser;
  g_return_val_if_fail (WKP_IS_APERTURE_PLOT (self), NAN);
  g_return_val_if_fail (series < WKP_APERTURE_N_SERIES, NAN);
  ser = &self->series[series];
  if (ser->values == NULL || frame < 0 || frame >= ser->n_frames)
    return NAN;
  return ser->gain * ((const float *) g_bytes_get_data (ser->values, NULL))[frame] + ser->offset;
}

gboolean
wkp_aperture_plot_has_series (WkpAperturePlot *self, WkpApertureSeries series)
{
  g_return_val_if_fail (WKP_IS_APERTURE_PLOT (self), FALSE);
  g_return_val_if_fail (series < WKP_APERTURE_N_SERIES, FALSE);
  return self->series[series].values != NULL;
}
