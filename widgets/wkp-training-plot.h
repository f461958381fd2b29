/* wkp-training-plot.h: training curves of one or more runs over epochs —
 * training and validation loss above, validation aperture r below, the kept
 * (best) epoch of each run marked, values of the epoch under the pointer in
 * a tooltip. The view model: per-run arrays, copied. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define WKP_TYPE_TRAINING_PLOT (wkp_training_plot_get_type ())
G_DECLARE_FINAL_TYPE (WkpTrainingPlot, wkp_training_plot, WKP, TRAINING_PLOT, GtkWidget)

GtkWidget *wkp_training_plot_new             (void);
void       wkp_training_plot_clear           (WkpTrainingPlot *self);
/* One run of @n epochs (1-based, increasing); NaN = undefined. @group picks
 * the colour family: 0 the studio's model (orange, like its prediction), 1
 * the compared model (purple), 2 and up other logs; runs of one group (an
 * ensemble's members) get shades of it. @best_epoch: 0 for none. */
void       wkp_training_plot_add_run         (WkpTrainingPlot *self, const char *label, int group, int n,
                                              const int *epoch, const double *train_loss,
                                              const double *val_loss, const double *val_r, int best_epoch);
/* The validation loss of a constant prediction for run @run (the order of
 * adding, from 0), drawn dashed across the loss panel; NaN for none. */
void       wkp_training_plot_set_run_constant (WkpTrainingPlot *self, int run, double val_loss_constant);
int        wkp_training_plot_get_n_runs      (WkpTrainingPlot *self);
/* The colour @run is drawn in. */
void       wkp_training_plot_get_run_rgb     (WkpTrainingPlot *self, int run, double rgb[3]);
/* The text of the tooltip at @epoch (each run's values), NULL when no run
 * has that epoch. */
char      *wkp_training_plot_describe_epoch  (WkpTrainingPlot *self, int epoch);

/* For tests: the legend text of @run as last drawn (NULL before a draw) —
 * the label, without its member's file when that fits, or cut in the middle
 * (*@cut TRUE, the text before the cut returned). */
char      *wkp_training_plot_get_legend_text (WkpTrainingPlot *self, int run, gboolean *cut);

G_END_DECLS
