import {nameCommand} from '../cli/lifecycle-command.js'
import {restart} from '../lifecycle/index.js'

export default nameCommand('restart', 'Restart the daemon (launchctl kickstart -k) and run its health check. Needs root.', restart)
