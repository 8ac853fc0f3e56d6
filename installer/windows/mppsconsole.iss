; Inno Setup 6 script: MPPS Console for Windows, a per-user install of the PyInstaller bundle.
; Built on Windows by installer\windows\build.ps1, which passes the version from
; mppsconsole.__version__ (the only place it is written):
;   iscc /DAppVersion=0.1.0 installer\windows\mppsconsole.iss
; Input: dist\mppsconsole\ (mppsconsole.exe for the command line, mppsconsolew.exe for the
; window). Output: dist\mppsconsole-<version>-windows-x64-setup.exe.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z (installer\windows\build.ps1 does)
#endif
#define AppName "MPPS Console"
#define Bundle "..\..\dist\mppsconsole"
; The SCP's default port (settings: [local] port); the optional firewall rule opens it.
#define ScpPort "11112"
#define FirewallRule "MPPS Console DICOM SCP (TCP " + ScpPort + ")"

[Setup]
; AppId identifies the product across versions: never change it.
AppId={{6F7E1C52-3B0A-4C8E-9D43-5A1B7E2F9C61}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=MPPS Console maintainers
VersionInfoVersion={#AppVersion}
; Per user, no administrator needed: installs to %LOCALAPPDATA%\Programs\MPPS Console.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=mppsconsole-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\mppsconsole\data\icons\mppsconsole.ico
UninstallDisplayIcon={app}\mppsconsolew.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; The uninstaller removes what was installed. Settings and data (config.toml, the database,
; images, logs: %LOCALAPPDATA%\mppsconsole\mppsconsole) are the user's and stay.

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"
Name: "chinesesimplified"; MessagesFile: "compiler:Languages\ChineseSimplified.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
; Opening a port needs an administrator: Windows asks for consent (UAC) when chosen.
Name: "firewall"; Description: "Allow DICOM connections to the SCP on TCP port {#ScpPort} (Windows Firewall, asks for administrator consent)"; Flags: unchecked

[Files]
Source: "{#Bundle}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\mppsconsolew.exe"; Comment: "DICOM worklist and MPPS console"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\mppsconsolew.exe"; Tasks: desktopicon

[Run]
Filename: "{sys}\netsh.exe"; \
  Parameters: "advfirewall firewall add rule name=""{#FirewallRule}"" dir=in action=allow protocol=TCP localport={#ScpPort} program=""{app}\mppsconsolew.exe"" enable=yes"; \
  Verb: runas; Flags: runhidden shellexec waituntilterminated; Tasks: firewall; \
  StatusMsg: "Adding the firewall rule for port {#ScpPort}..."
Filename: "{sys}\netsh.exe"; \
  Parameters: "advfirewall firewall add rule name=""{#FirewallRule}"" dir=in action=allow protocol=TCP localport={#ScpPort} program=""{app}\mppsconsole.exe"" enable=yes"; \
  Verb: runas; Flags: runhidden shellexec waituntilterminated; Tasks: firewall
Filename: "{app}\mppsconsolew.exe"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
Filename: "{sys}\netsh.exe"; \
  Parameters: "advfirewall firewall delete rule name=""{#FirewallRule}"""; \
  Verb: runas; Flags: runhidden shellexec waituntilterminated; Tasks: firewall; \
  RunOnceId: "DeleteFirewallRule"
