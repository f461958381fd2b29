/* wkp-spectrogram-view.h: MFCC / log-mel over time with a playhead.
 *
 * The view model is a float32 matrix [n_steps, n_coeffs] (row = one analysis
 * step, @rate_num/@rate_den steps per second, step 0 at time 0). Each
 * coefficient is standardised over the clip and mapped through a perceptual
 * colormap. The image is rendered to texture tiles on a worker thread when
 * data or colormap change; snapshot only places the tiles. */
#pragma once

#include "wkp-colormap.h"
#include "wkp-time-view.h"

G_BEGIN_DECLS

#define WKP_TYPE_SPECTROGRAM_VIEW (wkp_spectrogram_view_get_type ())
G_DECLARE_FINAL_TYPE (WkpSpectrogramView, wkp_spectrogram_view, WKP, SPECTROGRAM_VIEW, WkpTimeView)

GtkWidget  *wkp_spectrogram_view_new          (void);
/* @matrix: float32 [n_steps, n_coeffs]; NULL clears. */
void        wkp_spectrogram_view_set_data     (WkpSpectrogramView *self, GBytes *matrix, gint64 n_steps,
                                               int n_coeffs, int rate_num, int rate_den);
void        wkp_spectrogram_view_set_colormap (WkpSpectrogramView *self, WkpColormap colormap);
WkpColormap wkp_spectrogram_view_get_colormap (WkpSpectrogramView *self);
/* TRUE while tiles are being rendered ("rendering" property). */
gboolean    wkp_spectrogram_view_is_rendering (WkpSpectrogramView *self);

G_END_DECLS
