; Inno Setup script for Jangteo on Windows (https://jrsoftware.org/isinfo.php).
; Made by `python packaging/build.py` on Windows when `iscc` is on the PATH:
;   iscc /DAppVersion=0.1.0 /DSourceDir=build\dist\jangteo /Obuild packaging\windows\jangteo.iss
; Installs for the current user (no administrator rights needed), adds Start-menu and desktop
; shortcuts to the windowed Jangteo.exe, and never touches the sales data, which lives in
; %LOCALAPPDATA%\Jangteo: uninstalling or updating keeps it.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\build\dist\jangteo"
#endif

[Setup]
AppId={{6F1B8E0C-2B7D-4B52-9C55-3A1D0A7E5A11}
AppName=Jangteo
AppVerName=Jangteo {#AppVersion}
AppVersion={#AppVersion}
AppPublisher=Jangteo
DefaultDirName={localappdata}\Programs\Jangteo
DefaultGroupName=Jangteo
PrivilegesRequired=lowest
OutputBaseFilename=jangteo-{#AppVersion}-setup
SetupIconFile=..\icons\jangteo.ico
UninstallDisplayIcon={app}\Jangteo.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
CloseApplications=yes

[Languages]
Name: "korean"; MessagesFile: "compiler:Languages\Korean.isl"
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; an update replaces the program folder entirely (the data is elsewhere)
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{group}\Jangteo (장터)"; Filename: "{app}\Jangteo.exe"
Name: "{group}\Jangteo self-test"; Filename: "{cmd}"; Parameters: "/k ""{app}\jangteo-cli.exe"" selftest"
Name: "{userdesktop}\Jangteo (장터)"; Filename: "{app}\Jangteo.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\Jangteo.exe"; Description: "{cm:LaunchProgram,Jangteo}"; Flags: nowait postinstall skipifsilent
