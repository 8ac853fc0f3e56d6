# Build MPPS Console for Windows (run on Windows, from the checkout root, in PowerShell):
#   py -3.11 -m venv .venv; .venv\Scripts\pip install -e ".[build]"
#   powershell -ExecutionPolicy Bypass -File installer\windows\build.ps1
# Needs Inno Setup 6 (iscc.exe on PATH or in its default folder).
# Output: dist\mppsconsole\ (the bundle) and dist\mppsconsole-<version>-windows-x64-setup.exe.
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")
$python = ".venv\Scripts\python.exe"
# The version is written once, in mppsconsole/__init__.py; the installer gets it from here.
$version = & $python -c "import mppsconsole; print(mppsconsole.__version__)"
& $python -m PyInstaller --noconfirm --clean --distpath dist --workpath build\pyinstaller `
    installer\mppsconsole.spec
if ($LASTEXITCODE -ne 0) { throw "PyInstaller failed" }
& dist\mppsconsole\mppsconsole.exe --version
if ($LASTEXITCODE -ne 0) { throw "the bundle does not start" }
$iscc = (Get-Command iscc.exe -ErrorAction SilentlyContinue).Source
if (-not $iscc) { $iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
& $iscc "/DAppVersion=$version" installer\windows\mppsconsole.iss
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }
