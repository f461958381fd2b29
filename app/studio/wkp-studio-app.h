/* wkp-studio-app.h: the studio application (command line, app actions). */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define WKP_TYPE_STUDIO_APP (wkp_studio_app_get_type ())
G_DECLARE_FINAL_TYPE (WkpStudioApp, wkp_studio_app, WKP, STUDIO_APP, GtkApplication)

WkpStudioApp *wkp_studio_app_new (void);

/* Without a session bus (ssh, containers, Xvfb) GSettings' dconf backend
 * cannot store anything and every preference toggle silently does nothing:
 * unless GSETTINGS_BACKEND is set, choose GLib's keyfile backend then. Call
 * before any GSettings is made. Returns the backend chosen, or NULL. */
const char *wkp_studio_choose_settings_backend (void);

/* Monotonic time (us) at which main() started, for the startup benchmark. */
void wkp_studio_app_set_start_time (gint64 us);

G_END_DECLS
