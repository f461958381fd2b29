/* wkp-training-window.h: how the models were trained. Plots the per-epoch
 * history of the studio's model (each member of an ensemble), of the
 * compared model and of any training log added, read on a worker thread:
 * the history a model file carries, else the MODEL.csv that `wav2kp train`
 * wrote beside it. */
#pragma once

#include <gtk/gtk.h>

#include "wkp-training-plot.h"

G_BEGIN_DECLS

#define WKP_TYPE_TRAINING_WINDOW (wkp_training_window_get_type ())
G_DECLARE_FINAL_TYPE (WkpTrainingWindow, wkp_training_window, WKP, TRAINING_WINDOW, GtkWindow)

WkpTrainingWindow *wkp_training_window_new        (GtkWindow *parent);
/* @path: a model file (.wkpm) or a training log (.csv); @group: 0 the
 * studio's model, 1 the compared model, 2 and up added logs (colours). */
void               wkp_training_window_add        (WkpTrainingWindow *self, const char *path, int group);

/* For tests. */
gboolean           wkp_training_window_is_loading (WkpTrainingWindow *self);
WkpTrainingPlot   *wkp_training_window_get_plot   (WkpTrainingWindow *self);
/* The note under the plot: one line per source (what it holds, or why it
 * shows nothing). */
const char        *wkp_training_window_get_note   (WkpTrainingWindow *self);

G_END_DECLS
