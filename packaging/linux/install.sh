#!/bin/sh
# ./install.sh       adds Jangteo to your application menu, from where this folder was unpacked
# sudo ./install.sh  installs the udev rule so USB receipt printers work without root
set -e
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" = 0 ]; then
  cp "$here/60-jangteo-printers.rules" /etc/udev/rules.d/
  udevadm control --reload && udevadm trigger || true
  echo "USB printer rule installed; unplug and plug the printer once."
  echo "For the menu entry, run ./install.sh again without sudo."
  exit 0
fi
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
mkdir -p "$apps"
sed "s#@APPDIR@#$here#g" "$here/jangteo.desktop" > "$apps/jangteo.desktop"
chmod 644 "$apps/jangteo.desktop"
echo "Jangteo is in the application menu (장터). Start it from there or: $here/jangteo/jangteo"
echo "For USB receipt printers run once: sudo $here/install.sh"
