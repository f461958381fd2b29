/* wkp-widgets.h: the studio's views (GTK 4 only; no engine, no files). */
#pragma once

#include "wkp-aperture-plot.h"
#include "wkp-colormap.h"
#include "wkp-face-shape.h"
#include "wkp-frame-view.h"
#include "wkp-mouth-view.h"
#include "wkp-overview-bar.h"
#include "wkp-spectrogram-view.h"
#include "wkp-time-view.h"
#include "wkp-timeline-bar.h"
#include "wkp-timemap.h"
#include "wkp-training-plot.h"
