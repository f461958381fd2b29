#include "wkp-cli.h"
#include "wkp-error.h"

int
wkp_cli_probe (int argc, char **argv)
{
  return wkp_cli_fail ("probe", g_error_new_literal (WKP_IO_ERROR, WKP_ERROR_UNSUPPORTED,
                                                   "not available in this build yet"));
}
