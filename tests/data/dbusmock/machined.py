# SPDX-License-Identifier: LGPL-2.1-or-later
'''systemd-machined mock template, for the bus tests (docs/vms.md, "Names")

What vfiohostd uses of org.freedesktop.machine1, as machined does it:
Manager.GetMachineByPID(u) -> o, or the error NoMachineForPID; Machine
objects at /org/freedesktop/machine1/machine/<escaped name> with Name,
Class, Leader and Service; Manager.MachineNew(so) and MachineRemoved(so).
Tests add and remove machines through the mock interface:
AddMachine(name, class, leader) -> o and RemoveMachine(name).

Real machined answers by the pid's cgroup (any process in the machine's
scope); here the leader is the only process of a machine.
'''

import dbus

from dbusmock import MOCK_IFACE, mockobject

BUS_NAME = 'org.freedesktop.machine1'
MAIN_OBJ = '/org/freedesktop/machine1'
MAIN_IFACE = 'org.freedesktop.machine1.Manager'
MACHINE_IFACE = 'org.freedesktop.machine1.Machine'
SYSTEM_BUS = True


def load(mock, parameters):
    pass


def _escape(name):
    # systemd's bus_label_escape(): [A-Za-z0-9] as is, the rest _xx.
    return ''.join(c if c.isascii() and c.isalnum() else '_%02x' % ord(c) for c in name)


def _path(name):
    return dbus.ObjectPath(MAIN_OBJ + '/machine/' + _escape(name))


def _machines():
    return {p: o for p, o in mockobject.objects.items() if p.startswith(MAIN_OBJ + '/machine/')}


@dbus.service.method(MAIN_IFACE, in_signature='u', out_signature='o')
def GetMachineByPID(self, pid):
    for path, obj in _machines().items():
        if int(obj.props[MACHINE_IFACE]['Leader']) == int(pid):
            return path
    raise dbus.exceptions.DBusException(f'PID {int(pid)} does not belong to any known machine',
                                        name='org.freedesktop.machine1.NoMachineForPID')


@dbus.service.method(MOCK_IFACE, in_signature='ssu', out_signature='o')
def AddMachine(self, name, klass, leader):
    path = _path(name)
    self.AddObject(path, MACHINE_IFACE, {
        'Name': dbus.String(name),
        'Class': dbus.String(klass),
        'Leader': dbus.UInt32(leader),
        'Service': dbus.String('libvirt-qemu'),
        'Unit': dbus.String(f'machine-{_escape(name)}.scope'),
        'State': dbus.String('running'),
        'Id': dbus.Array([dbus.Byte(0)] * 16, signature='y'),
        'Timestamp': dbus.UInt64(0),
    }, [])
    mockobject.objects[MAIN_OBJ].EmitSignal(MAIN_IFACE, 'MachineNew', 'so', [name, path])
    return path


@dbus.service.method(MOCK_IFACE, in_signature='s', out_signature='')
def RemoveMachine(self, name):
    path = _path(name)
    self.RemoveObject(path)
    mockobject.objects[MAIN_OBJ].EmitSignal(MAIN_IFACE, 'MachineRemoved', 'so', [name, path])
