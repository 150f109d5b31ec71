; Outpost NSIS hooks (electron-builder `nsis.include`): the agent as a Windows service through a
; service wrapper (WinSW, renamed outpost-agent-service.exe, configured by outpost-agent-service.xml;
; Node cannot answer the service control manager itself), removed with its trust and proxy on uninstall.
!macro customInstall
  CopyFiles /SILENT "$INSTDIR\resources\service\outpost-agent-service.xml" "$INSTDIR\outpost-agent-service.xml"
  IfFileExists "$INSTDIR\resources\service\outpost-agent-service.exe" 0 +4
    CopyFiles /SILENT "$INSTDIR\resources\service\outpost-agent-service.exe" "$INSTDIR\outpost-agent-service.exe"
    nsExec::ExecToLog '"$INSTDIR\outpost-agent-service.exe" install'
    nsExec::ExecToLog '"$INSTDIR\outpost-agent-service.exe" start'
!macroend

!macro customUnInstall
  nsExec::ExecToLog '"$INSTDIR\outpost-agent-service.exe" stop'
  nsExec::ExecToLog '"$INSTDIR\outpost-agent-service.exe" uninstall'
  nsExec::ExecToLog '"$INSTDIR\Outpost.exe" "$INSTDIR\resources\app.asar\dist\agent\cli\main.js" proxy disable'
  nsExec::ExecToLog '"$INSTDIR\Outpost.exe" "$INSTDIR\resources\app.asar\dist\agent\cli\main.js" ca untrust'
!macroend
