#include "wkp-training-plot.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>
#include <pango/pangocairo.h>

typedef struct
{
  char   *label;
  int     group, shade;
  int     n;
  int    *epoch;
  double *train_loss, *val_loss, *val_r;
  int     best_epoch;
  double  val_loss_constant;   /* NaN: unknown */
  char   *shown;               /* the legend text as last drawn (see legend_layout) */
  gboolean cut;                /* ... and cut with "…" */
} Run;

struct _WkpTrainingPlot
{
  GtkWidget  parent_instance;
  GPtrArray *runs;
  int        hover_epoch;   /* -1: none */
  /* layout of the last draw, for the pointer */
  double     plot_x0, plot_x1;
  int        max_epoch;
};

G_DEFINE_FINAL_TYPE (WkpTrainingPlot, wkp_training_plot, GTK_TYPE_WIDGET)

/* colour families: the model's orange, the compared model's purple, then
 * other logs; four shades each for an ensemble's members */
static const double palette[][4][3] = {
  { { 0.90, 0.38, 0.00 }, { 0.72, 0.18, 0.08 }, { 0.93, 0.60, 0.05 }, { 0.55, 0.30, 0.10 } },
  { { 0.57, 0.25, 0.67 }, { 0.38, 0.18, 0.58 }, { 0.78, 0.38, 0.75 }, { 0.45, 0.08, 0.42 } },
  { { 0.00, 0.55, 0.55 }, { 0.10, 0.40, 0.75 }, { 0.30, 0.60, 0.15 }, { 0.35, 0.35, 0.38 } },
};

#define PAD 8.0
#define PANEL_GAP 22.0
#define SWATCH 16.0

static void
run_free (gpointer data)
{
  Run *r = data;
  g_free (r->label);
  g_free (r->shown);
  g_free (r->epoch);
  g_free (r->train_loss);
  g_free (r->val_loss);
  g_free (r->val_r);
  g_free (r);
}

static void
run_rgb (const Run *r, double rgb[3])
{
  int last = (int) G_N_ELEMENTS (palette) - 1;
  int g = MIN (r->group, last);
  /* each added log (its own group past the last family) a shade of its own:
   * they were all the family's first, one teal for every log */
  int shade = r->shade + MAX (r->group - last, 0);
  for (int i = 0; i < 3; i++)
    rgb[i] = palette[g][shade % 4][i];
}

/* 1, 2 or 5 times a power of ten: the finest step that gives at most @max_ticks over @range */
static double
nice_step (double range, int max_ticks)
{
  double raw = range / MAX (max_ticks, 1), p;
  if (!(raw > 0) || !isfinite (raw))
    return 1.0;
  p = pow (10.0, floor (log10 (raw)));
  if (raw <= p)
    return p;
  if (raw <= 2 * p)
    return 2 * p;
  if (raw <= 5 * p)
    return 5 * p;
  return 10 * p;
}

typedef struct
{
  double lo, hi, step;
} Axis;

/* an axis over the finite values of @which (0 losses, 1 val r) of all runs */
static Axis
value_axis (WkpTrainingPlot *self, int which, double height)
{
  Axis a = { INFINITY, -INFINITY, 0.1 };
  for (guint i = 0; i < self->runs->len; i++)
    {
      const Run *r = g_ptr_array_index (self->runs, i);
      if (which == 0 && isfinite (r->val_loss_constant))
        {
          a.lo = MIN (a.lo, r->val_loss_constant);
          a.hi = MAX (a.hi, r->val_loss_constant);
        }
      for (int e = 0; e < r->n; e++)
        {
          double v[2] = { which == 0 ? r->train_loss[e] : r->val_r[e], which == 0 ? r->val_loss[e] : NAN };
          for (int k = 0; k < 2; k++)
            if (isfinite (v[k]))
              {
                a.lo = MIN (a.lo, v[k]);
                a.hi = MAX (a.hi, v[k]);
              }
        }
    }
  if (!isfinite (a.lo))
    {
      a.lo = 0;
      a.hi = 1;
    }
  if (which == 0)
    a.lo = MIN (a.lo, 0.0);          /* losses from 0: their size is part of the story */
  else
    {
      a.lo = MIN (a.lo, 0.0);        /* r from 0 (or below, when it went negative) */
      a.hi = MAX (a.hi, a.lo + 0.1);
    }
  if (a.hi - a.lo < 1e-9)
    a.hi = a.lo + 1;
  a.step = nice_step (a.hi - a.lo, (int) MAX (2.0, height / 28.0));
  a.lo = floor (a.lo / a.step + 1e-9) * a.step;
  a.hi = ceil (a.hi / a.step - 1e-9) * a.step;
  return a;
}

static double
axis_y (const Axis *a, double v, double top, double bottom)
{
  return bottom - (v - a->lo) / (a->hi - a->lo) * (bottom - top);
}

static double
epoch_x (WkpTrainingPlot *self, double e)
{
  int span = MAX (self->max_epoch - 1, 1);
  return self->plot_x0 + (e - 1) / span * (self->plot_x1 - self->plot_x0);
}

static PangoLayout *
layout_for (GtkWidget *widget, const char *text, double max_width)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (widget, text);
  if (max_width > 0)
    {
      pango_layout_set_width (layout, (int) (max_width * PANGO_SCALE));
      pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);   /* sentences: their start matters */
    }
  return layout;
}

/* A run's legend entry within @max_width: whole; else without its member's
 * file ("ens.wkpm, member 2" of "ens.wkpm, member 2 (s2.wkpm)"), which the
 * tooltip still names; else cut in the middle. It was cut from the start,
 * "…member 2 (s2.wkpm)": the model's name went first, and two ensembles of
 * the same members' files read alike. Records what was drawn in @r. */
static PangoLayout *
legend_layout (GtkWidget *widget, Run *r, double max_width)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (widget, r->label);
  const char *paren = strrchr (r->label, '(');
  int lw;
  g_free (r->shown);
  r->shown = g_strdup (r->label);
  r->cut = FALSE;
  pango_layout_get_pixel_size (layout, &lw, NULL);
  if (lw <= max_width)
    return layout;
  if (paren != NULL && paren > r->label + 1 && paren[-1] == ' ' && g_str_has_suffix (paren, ")"))
    {
      g_free (r->shown);
      r->shown = g_strndup (r->label, paren - 1 - r->label);
      pango_layout_set_text (layout, r->shown, -1);
      pango_layout_get_pixel_size (layout, &lw, NULL);
      if (lw <= max_width)
        return layout;
    }
  pango_layout_set_width (layout, (int) (MAX (max_width, 1) * PANGO_SCALE));
  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_MIDDLE);
  r->cut = pango_layout_is_ellipsized (layout);
  return layout;
}

static void
show_text (cairo_t *cr, GtkWidget *widget, const char *text, double x, double y, double max_width,
           double grey, gboolean right_aligned)
{
  PangoLayout *layout = layout_for (widget, text, max_width);
  int lw, lh;
  pango_layout_get_pixel_size (layout, &lw, &lh);
  cairo_set_source_rgb (cr, grey, grey, grey + 0.02);
  cairo_move_to (cr, right_aligned ? x - lw : x, y);
  pango_cairo_show_layout (cr, layout);
  g_object_unref (layout);
}

static int
text_height (GtkWidget *widget)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (widget, "0.9");
  int lh;
  pango_layout_get_pixel_size (layout, NULL, &lh);
  g_object_unref (layout);
  return lh;
}

static int
text_width (GtkWidget *widget, const char *text)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (widget, text);
  int lw;
  pango_layout_get_pixel_size (layout, &lw, NULL);
  g_object_unref (layout);
  return lw;
}

static char *
tick_text (double v, double step)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  int decimals = step >= 1 ? 0 : (int) ceil (-log10 (step) - 1e-9);
  if (fabs (v) < step * 1e-6)
    v = 0;
  /* display text: the locale's decimal mark */
  g_snprintf (buf, sizeof buf, "%.*f", decimals, v);
  return g_strdup (buf);
}

static void
draw_series (cairo_t *cr, WkpTrainingPlot *self, const Run *r, const double *v, const Axis *a, double top,
             double bottom)
{
  gboolean pen = FALSE;
  for (int e = 0; e < r->n; e++)
    {
      double x, y;
      if (!isfinite (v[e]))
        {
          pen = FALSE;
          continue;
        }
      x = epoch_x (self, r->epoch[e]);
      y = axis_y (a, v[e], top, bottom);
      if (pen)
        cairo_line_to (cr, x, y);
      else
        cairo_move_to (cr, x, y);
      pen = TRUE;
    }
  cairo_stroke (cr);
  /* a single point would draw nothing: a dot for each isolated value */
  for (int e = 0; e < r->n; e++)
    if (isfinite (v[e]) && (e == 0 || !isfinite (v[e - 1])) && (e + 1 >= r->n || !isfinite (v[e + 1])))
      {
        cairo_arc (cr, epoch_x (self, r->epoch[e]), axis_y (a, v[e], top, bottom), 1.8, 0, 2 * G_PI);
        cairo_fill (cr);
      }
}

static void
draw_best (cairo_t *cr, WkpTrainingPlot *self, const Run *r, const double *v, const Axis *a, double top,
           double bottom)
{
  for (int e = 0; e < r->n; e++)
    if (r->epoch[e] == r->best_epoch && isfinite (v[e]))
      {
        cairo_arc (cr, epoch_x (self, r->epoch[e]), axis_y (a, v[e], top, bottom), 4.0, 0, 2 * G_PI);
        cairo_fill_preserve (cr);
        cairo_set_source_rgb (cr, 1, 1, 1);
        cairo_set_line_width (cr, 1.2);
        cairo_stroke (cr);
      }
}

static void
draw_grid (cairo_t *cr, GtkWidget *widget, const Axis *a, double top, double bottom, double x0, double x1)
{
  cairo_set_line_width (cr, 1.0);
  for (int k = 0;; k++)
    {
      double v = a->lo + k * a->step, y;
      g_autofree char *t = NULL;
      if (v > a->hi + a->step * 1e-6)
        break;
      y = floor (axis_y (a, v, top, bottom)) + 0.5;
      cairo_set_source_rgb (cr, 0.86, 0.86, 0.88);
      cairo_move_to (cr, x0, y);
      cairo_line_to (cr, x1, y);
      cairo_stroke (cr);
      t = tick_text (v, a->step);
      show_text (cr, widget, t, x0 - 4, y - text_height (widget) / 2.0, 0, 0.40, TRUE);
    }
}

static void
wkp_training_plot_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  WkpTrainingPlot *self = WKP_TRAINING_PLOT (widget);
  double w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  double lh = text_height (widget), legend_h, col_w, top, mid, bottom, p1_top, p1_bot, p2_top, p2_bot, label_gap;
  int cols, rows, xstep;
  Axis la, ra;
  cairo_t *cr;

  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  if (self->runs->len == 0)
    {
      show_text (cr, widget, _("No training history to show"), PAD, PAD, w - 2 * PAD, 0.45, FALSE);
      cairo_destroy (cr);
      return;
    }

  self->max_epoch = 1;
  for (guint i = 0; i < self->runs->len; i++)
    {
      const Run *r = g_ptr_array_index (self->runs, i);
      if (r->n > 0)
        self->max_epoch = MAX (self->max_epoch, r->epoch[r->n - 1]);
    }

  /* legend: one entry per run, in as many columns as fit 300 px each, and
   * the key to the line styles */
  cols = CLAMP ((int) ((w - 2 * PAD) / 300.0), 1, (int) self->runs->len);
  rows = ((int) self->runs->len + cols - 1) / cols;
  col_w = (w - 2 * PAD) / cols;
  for (guint i = 0; i < self->runs->len; i++)
    {
      Run *r = g_ptr_array_index (self->runs, i);
      double rgb[3], x = PAD + (i % cols) * col_w, y = PAD + (i / cols) * (lh + 4);
      PangoLayout *layout;
      run_rgb (r, rgb);
      cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
      cairo_rectangle (cr, x, y + lh / 2 - 1.5, SWATCH, 3);
      cairo_fill (cr);
      layout = legend_layout (widget, r, col_w - SWATCH - 12);
      cairo_set_source_rgb (cr, 0.20, 0.20, 0.22);
      cairo_move_to (cr, x + SWATCH + 5, y);
      pango_cairo_show_layout (cr, layout);
      g_object_unref (layout);
    }
  legend_h = PAD + rows * (lh + 4);
  {
    gboolean constant = FALSE;
    for (guint i = 0; i < self->runs->len; i++)
      constant |= isfinite (((const Run *) g_ptr_array_index (self->runs, i))->val_loss_constant);
    show_text (cr, widget, _("Loss: validation solid, training dotted · ● the kept epoch"), PAD, legend_h,
               w - 2 * PAD, 0.40, FALSE);
    if (constant)
      {
        legend_h += lh + 2;
        show_text (cr, widget, _("Dashed: the validation loss of a constant prediction (the mean mouth)"), PAD,
                   legend_h, w - 2 * PAD, 0.40, FALSE);
      }
  }
  legend_h += lh + 6;

  /* two panels over one epoch axis */
  {
    const char *probe[] = { "0.00", "-0.25", "10.0", _("epoch") };
    char last[16];
    double gutter = 0;
    for (guint i = 0; i < G_N_ELEMENTS (probe); i++)
      gutter = MAX (gutter, text_width (widget, probe[i]));
    g_snprintf (last, sizeof last, "%d", self->max_epoch);
    self->plot_x0 = PAD + gutter + 8;
    self->plot_x1 = MAX (self->plot_x0 + 10, w - PAD - text_width (widget, last) / 2.0);
  }
  /* the epoch labels go below the lower half of the r axis' lowest label,
   * which is centred on the axis (they touched, "-0.1" over "epoch 1") */
  label_gap = ceil (lh / 2.0) + 2;
  top = legend_h;
  bottom = h - lh - 4 - label_gap;
  mid = top + (bottom - top) * 0.55;
  p1_top = top + lh + 4;
  p1_bot = mid - PANEL_GAP / 2;
  p2_top = mid + PANEL_GAP / 2 + lh + 4;
  p2_bot = bottom;
  if (p1_bot - p1_top < 20 || p2_bot - p2_top < 20)
    {
      cairo_destroy (cr);
      return;   /* too small to say anything */
    }
  show_text (cr, widget, _("Loss (PCA space)"), self->plot_x0, top, 0, 0.20, FALSE);
  show_text (cr, widget, _("Validation aperture r"), self->plot_x0, mid + PANEL_GAP / 2, 0, 0.20, FALSE);
  la = value_axis (self, 0, p1_bot - p1_top);
  ra = value_axis (self, 1, p2_bot - p2_top);
  draw_grid (cr, widget, &la, p1_top, p1_bot, self->plot_x0, self->plot_x1);
  draw_grid (cr, widget, &ra, p2_top, p2_bot, self->plot_x0, self->plot_x1);

  /* epoch ticks */
  xstep = (int) nice_step (MAX (self->max_epoch - 1, 1), (int) MAX (2.0, (self->plot_x1 - self->plot_x0) / 60.0));
  xstep = MAX (xstep, 1);
  for (int e = 1; e <= self->max_epoch; e += (e == 1 && xstep > 1) ? xstep - 1 : xstep)
    {
      char t[16];
      double x = floor (epoch_x (self, e)) + 0.5;
      cairo_set_source_rgb (cr, 0.86, 0.86, 0.88);
      cairo_move_to (cr, x, bottom);
      cairo_line_to (cr, x, bottom + 4);
      cairo_stroke (cr);
      g_snprintf (t, sizeof t, "%d", e);
      show_text (cr, widget, t, x - text_width (widget, t) / 2.0, bottom + label_gap, 0, 0.40, FALSE);
    }
  show_text (cr, widget, _("epoch"), PAD, bottom + label_gap, 0, 0.40, FALSE);

  if (self->hover_epoch >= 1 && self->hover_epoch <= self->max_epoch)
    {
      double x = floor (epoch_x (self, self->hover_epoch)) + 0.5;
      cairo_set_source_rgba (cr, 0.2, 0.2, 0.25, 0.35);
      cairo_move_to (cr, x, p1_top);
      cairo_line_to (cr, x, p2_bot);
      cairo_stroke (cr);
    }

  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  for (guint i = 0; i < self->runs->len; i++)
    {
      const Run *r = g_ptr_array_index (self->runs, i);
      static const double dots[] = { 1.5, 2.5 };
      double rgb[3];
      run_rgb (r, rgb);
      cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
      cairo_set_line_width (cr, 1.4);
      cairo_set_dash (cr, dots, 2, 0);
      draw_series (cr, self, r, r->train_loss, &la, p1_top, p1_bot);
      if (isfinite (r->val_loss_constant))
        {
          /* the level a network has to get under: predicting the mean */
          static const double dashes[] = { 7.0, 4.0 };
          double y = floor (axis_y (&la, r->val_loss_constant, p1_top, p1_bot)) + 0.5;
          cairo_set_dash (cr, dashes, 2, 0);
          cairo_set_line_width (cr, 1.2);
          cairo_move_to (cr, self->plot_x0, y);
          cairo_line_to (cr, self->plot_x1, y);
          cairo_stroke (cr);
        }
      cairo_set_dash (cr, NULL, 0, 0);
      cairo_set_line_width (cr, 1.8);
      draw_series (cr, self, r, r->val_loss, &la, p1_top, p1_bot);
      draw_series (cr, self, r, r->val_r, &ra, p2_top, p2_bot);
    }
  for (guint i = 0; i < self->runs->len; i++)
    {
      const Run *r = g_ptr_array_index (self->runs, i);
      double rgb[3];
      run_rgb (r, rgb);
      cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
      draw_best (cr, self, r, r->val_loss, &la, p1_top, p1_bot);
      cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
      draw_best (cr, self, r, r->val_r, &ra, p2_top, p2_bot);
    }
  cairo_destroy (cr);
}

static int
epoch_at (WkpTrainingPlot *self, double x)
{
  double span = self->plot_x1 - self->plot_x0;
  if (self->runs->len == 0 || !(span > 0))
    return -1;
  return CLAMP ((int) lround (1 + (x - self->plot_x0) / span * MAX (self->max_epoch - 1, 1)), 1, self->max_epoch);
}

static void
on_motion (GtkEventControllerMotion *motion, double x, double y, WkpTrainingPlot *self)
{
  int e = epoch_at (self, x);
  if (e != self->hover_epoch)
    {
      self->hover_epoch = e;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static void
on_leave (GtkEventControllerMotion *motion, WkpTrainingPlot *self)
{
  self->hover_epoch = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
on_query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip, gpointer data)
{
  WkpTrainingPlot *self = WKP_TRAINING_PLOT (widget);
  g_autofree char *text = wkp_training_plot_describe_epoch (self, epoch_at (self, x));
  if (text == NULL)
    return FALSE;
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

/* losses with 4 decimals, r with 3: one precision per quantity, so that
 * the values line up (%.4g wrote 1.69 beside 1.694) */
static void
append_value (GString *s, const char *name, double v, int decimals)
{
  if (isfinite (v))
    g_string_append_printf (s, "  %s %.*f", name, decimals, v);
  else
    g_string_append_printf (s, "  %s —", name);
}

char *
wkp_training_plot_describe_epoch (WkpTrainingPlot *self, int epoch)
{
  GString *s = NULL;
  g_return_val_if_fail (WKP_IS_TRAINING_PLOT (self), NULL);
  for (guint i = 0; i < self->runs->len; i++)
    {
      const Run *r = g_ptr_array_index (self->runs, i);
      for (int e = 0; e < r->n; e++)
        if (r->epoch[e] == epoch)
          {
            if (s == NULL)
              s = g_string_new (NULL), g_string_append_printf (s, _("Epoch %d"), epoch);
            g_string_append_printf (s, "\n%s%s:", r->label, epoch == r->best_epoch ? _(" (kept)") : "");
            append_value (s, _("training loss"), r->train_loss[e], 4);
            append_value (s, _("validation loss"), r->val_loss[e], 4);
            if (isfinite (r->val_loss_constant) && isfinite (r->val_loss[e]))
              /* TRANSLATORS: the validation loss of a constant prediction, after the epoch's */
              g_string_append_printf (s, _(" (constant %.4f)"), r->val_loss_constant);
            append_value (s, _("validation r"), r->val_r[e], 3);
          }
    }
  return s != NULL ? g_string_free (s, FALSE) : NULL;
}

static void
wkp_training_plot_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum, int *natural,
                           int *min_baseline, int *nat_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 240 : 200;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 640 : 460;
}

static void
wkp_training_plot_dispose (GObject *object)
{
  g_clear_pointer (&WKP_TRAINING_PLOT (object)->runs, g_ptr_array_unref);
  G_OBJECT_CLASS (wkp_training_plot_parent_class)->dispose (object);
}

static void
wkp_training_plot_class_init (WkpTrainingPlotClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = wkp_training_plot_dispose;
  widget_class->snapshot = wkp_training_plot_snapshot;
  widget_class->measure = wkp_training_plot_measure;
  gtk_widget_class_set_css_name (widget_class, "trainingplot");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
wkp_training_plot_init (WkpTrainingPlot *self)
{
  GtkEventController *motion = gtk_event_controller_motion_new ();
  self->runs = g_ptr_array_new_with_free_func (run_free);
  self->hover_epoch = -1;
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  g_signal_connect (self, "query-tooltip", G_CALLBACK (on_query_tooltip), NULL);
}

GtkWidget *
wkp_training_plot_new (void)
{
  return g_object_new (WKP_TYPE_TRAINING_PLOT, NULL);
}

void
wkp_training_plot_clear (WkpTrainingPlot *self)
{
  g_return_if_fail (WKP_IS_TRAINING_PLOT (self));
  g_ptr_array_set_size (self->runs, 0);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
wkp_training_plot_add_run (WkpTrainingPlot *self, const char *label, int group, int n, const int *epoch,
                           const double *train_loss, const double *val_loss, const double *val_r, int best_epoch)
{
  Run *r;
  int shade = 0;

  g_return_if_fail (WKP_IS_TRAINING_PLOT (self));
  g_return_if_fail (n >= 0 && group >= 0);
  g_return_if_fail (n == 0 || (epoch != NULL && train_loss != NULL && val_loss != NULL && val_r != NULL));
  for (int e = 1; e < n; e++)
    g_return_if_fail (epoch[e] > epoch[e - 1]);
  g_return_if_fail (n == 0 || epoch[0] >= 1);

  for (guint i = 0; i < self->runs->len; i++)
    shade += ((Run *) g_ptr_array_index (self->runs, i))->group == group;
  r = g_new0 (Run, 1);
  r->label = g_strdup (label != NULL ? label : "");
  r->group = group;
  r->shade = shade;
  r->n = n;
  r->epoch = g_memdup2 (epoch, sizeof (int) * MAX (n, 0));
  r->train_loss = g_memdup2 (train_loss, sizeof (double) * MAX (n, 0));
  r->val_loss = g_memdup2 (val_loss, sizeof (double) * MAX (n, 0));
  r->val_r = g_memdup2 (val_r, sizeof (double) * MAX (n, 0));
  r->best_epoch = best_epoch;
  r->val_loss_constant = NAN;
  g_ptr_array_add (self->runs, r);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
wkp_training_plot_set_run_constant (WkpTrainingPlot *self, int run, double val_loss_constant)
{
  g_return_if_fail (WKP_IS_TRAINING_PLOT (self));
  g_return_if_fail (run >= 0 && run < (int) self->runs->len);
  ((Run *) g_ptr_array_index (self->runs, run))->val_loss_constant = val_loss_constant;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

int
wkp_training_plot_get_n_runs (WkpTrainingPlot *self)
{
  g_return_val_if_fail (WKP_IS_TRAINING_PLOT (self), 0);
  return (int) self->runs->len;
}

void
wkp_training_plot_get_run_rgb (WkpTrainingPlot *self, int run, double rgb[3])
{
  g_return_if_fail (WKP_IS_TRAINING_PLOT (self) && run >= 0 && (guint) run < self->runs->len);
  run_rgb (g_ptr_array_index (self->runs, run), rgb);
}

char *
wkp_training_plot_get_legend_text (WkpTrainingPlot *self, int run, gboolean *cut)
{
  const Run *r;
  g_return_val_if_fail (WKP_IS_TRAINING_PLOT (self) && run >= 0 && (guint) run < self->runs->len, NULL);
  r = g_ptr_array_index (self->runs, run);
  if (cut != NULL)
    *cut = r->cut;
  return g_strdup (r->shown);
}
